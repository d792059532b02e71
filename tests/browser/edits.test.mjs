// Staff edit a placed order on the admin page: a free belt from leftover
// stock, a goodwill reduction of 10 € (its preview shows the new total
// before it is saved), an internal and a visible note, one trouser less;
// the shopper's page and e-mails show what they should and nothing
// internal. Two staff on one order: the one on an old version gets the
// order reloaded. And an order taken on the phone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { screenshots, shopForTests } from './runtime.mjs';

const shop = shopForTests();

async function placeOrder(key) {
  const response = await fetch(`${shop.runtime.base}/checkout`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify({
      lines: [{ sku: 'TR-CHINO-BEIGE', quantity: 2 }],
      email: 'anna@example.de',
      shipping_address: { name: 'Anna Muster', street: 'Hauptstraße 1', postal_code: '10115', city: 'Berlin', country: 'DE' },
      payment_method: 'invoice',
      language: 'en',
    }),
  });
  assert.equal(response.status, 201);
  return response.json();
}

async function stockOf(sku) {
  const response = await fetch(`${shop.runtime.base}/catalog/products/${sku}`);
  return (await response.json()).stock;
}

async function staffPage(email = 'lena@kontor.example') {
  const page = await shop.browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('dialog', (dialog) => dialog.accept());
  await page.goto(`${shop.runtime.base}/admin/`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByTestId('staff-sign-in').click();
  await page.getByTestId('order-search').waitFor();
  return { page, errors };
}

async function openOrder(page, order) {
  await page.goto(`${shop.runtime.base}/admin/#/orders/${order.id}`);
  await page.getByTestId('edits').waitFor();
}

test('a free belt, goodwill −10 €, an internal and a visible note', async () => {
  const order = await placeOrder('edits-scenario');
  assert.equal(order.total, '119.80');
  const belts = await stockOf('BE-LEATHER-BLACK');
  const { page, errors } = await staffPage();
  await openOrder(page, order);

  // The free belt, from the two left: the preview says the total stays.
  const add = page.getByTestId('add-item-form');
  await add.getByTestId('add-item-sku').fill('BE-LEATHER-BLACK');
  await add.getByTestId('add-item-price').fill('0');
  await add.getByTestId('add-item-reason').fill('good customer');
  await add.getByTestId('add-item-preview').getByText('119.80').waitFor();
  await add.getByTestId('add-item').click();
  await page.locator('[data-testid=order-line][data-line=L2]').waitFor();
  assert.equal(await stockOf('BE-LEATHER-BLACK'), belts - 1, 'taken from stock');

  // Goodwill −10 €: the preview shows 109,80 before anything is saved.
  const adjust = page.getByTestId('adjustment-form');
  await adjust.getByTestId('adjustment-amount').fill('-10,00');
  await adjust.getByTestId('adjustment-preview').getByText('109.80').waitFor();
  const unsaved = await (await fetch(`${shop.runtime.base}/orders/${order.id}?token=${order.access_token}`)).json();
  assert.equal(unsaved.total, '119.80', 'a preview writes nothing');
  await adjust.getByTestId('adjustment-reason').fill('parcel was late');
  await adjust.getByTestId('adjustment-notify').check();
  await adjust.getByTestId('adjust').click();
  await page.getByTestId('adjustment').getByText('parcel was late').waitFor();
  assert.match(await page.getByTestId('order-total').textContent(), /109\.80/);
  assert.match(await page.getByTestId('adjustments-total').textContent(), /-€10\.00/);

  // The notes.
  await page.getByTestId('note-text').fill('Customer called: wants it before Friday.');
  await page.getByTestId('add-note').click();
  await page.locator('[data-testid=note][data-visible=false]').waitFor();
  await page.getByTestId('note-text').fill('The black belt is a gift from us.');
  await page.getByTestId('note-visible').check();
  await page.getByTestId('add-note').click();
  await page.locator('[data-testid=note][data-visible=true]').waitFor();
  assert.match(await page.getByTestId('history').textContent(), /Item added\s+by staff lena@kontor\.example/);
  await page.screenshot({ path: join(screenshots, 'admin-order-edits.png'), fullPage: true });

  // The shopper sees the gift, the credit and their note; nothing internal.
  const shopper = await shop.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await shopper.goto(`${shop.runtime.base}/#/order/${order.id}?token=${order.access_token}`);
  await shopper.getByTestId('notes').waitFor();
  assert.match(await shopper.getByTestId('total').textContent(), /109\.80/);
  assert.match(await shopper.getByTestId('adjustments').textContent(), /Credit/);
  const content = await shopper.content();
  assert.match(content, /a gift from us/);
  assert.doesNotMatch(content, /before Friday|parcel was late|good customer/, 'staff words stay with staff');

  // One trouser less, before anything is packed.
  const line = page.locator('form.line-form[data-line=L1]');
  await line.getByTestId('line-quantity').fill('1');
  await line.locator('.preview').getByText(/49\.90/).waitFor();
  await line.getByTestId('line-save').click();
  await page.locator('[data-testid=order-line][data-line=L1] td.num').first().getByText('1', { exact: true }).waitFor();
  assert.match(await page.getByTestId('order-total').textContent(), /49\.90/);

  // The customer was told of the changes they should know of.
  await page.getByRole('link', { name: 'Mail outbox' }).click();
  const deadline = Date.now() + 10_000;
  let texts = '';
  for (;;) {
    await page.getByTestId('mail').first().waitFor();
    texts = (await page.getByTestId('mail').allTextContents()).join(' | ');
    if (texts.includes('was changed') || Date.now() > deadline) break;
    await page.waitForTimeout(300);
    await page.reload();
  }
  assert.match(texts, new RegExp(`Your order ${order.number} was changed`));
  assert.doesNotMatch(texts, /before Friday|parcel was late/);
  assert.deepEqual(errors, []);
});

test('two staff on one order: the one on an old version sees it reloaded', async () => {
  const order = await placeOrder('edits-race');
  const lena = await staffPage('lena@kontor.example');
  const omar = await staffPage('omar@kontor.example');
  await openOrder(lena.page, order);
  await openOrder(omar.page, order);
  await lena.page.getByTestId('note-text').fill('Lena was here first.');
  await lena.page.getByTestId('add-note').click();
  await lena.page.locator('[data-testid=note]').waitFor();
  // Omar's page still shows the version before Lena's note.
  await omar.page.getByTestId('adjustment-amount').fill('-5');
  await omar.page.getByTestId('adjustment-reason').fill('scratch');
  await omar.page.getByTestId('adjust').click();
  await omar.page.locator('[data-testid=note]').getByText('Lena was here first.').waitFor();
  assert.equal(await omar.page.getByTestId('adjustment').count(), 0, 'nothing written on the old version');
  assert.deepEqual([...lena.errors, ...omar.errors], []);
});

test('an order taken on the phone, previewed, then placed', async () => {
  const { page, errors } = await staffPage();
  await page.getByTestId('new-phone-order').click();
  const form = page.getByTestId('phone-form');
  await form.getByTestId('phone-sku').fill('SH-OXFORD-WHITE');
  await form.getByTestId('phone-quantity').fill('2');
  await form.getByTestId('phone-price').fill('45,00');
  await form.getByTestId('phone-preview').getByText('90.00').waitFor();
  await form.getByTestId('phone-email').fill('paul@example.de');
  await form.getByTestId('shipping_address-name').fill('Paul Beispiel');
  await form.getByTestId('shipping_address-street').fill('Ring 2');
  await form.getByTestId('shipping_address-postal_code').fill('80331');
  await form.getByTestId('shipping_address-city').fill('München');
  await form.getByTestId('phone-place').click();
  await page.getByTestId('edits').waitFor();
  assert.match(await page.getByTestId('history').textContent(), /Order taken on the phone/);
  assert.match(await page.getByTestId('order-total').textContent(), /90\.00/);
  assert.deepEqual(errors, []);
});
