// An order's lifecycle through the pages: staff record a payment for one
// order, cancel another (its stock comes back and the customer is told),
// and an unpaid prepayment order expires once its deadline has passed —
// the runtime is restarted with its clock 15 days ahead, and its sweep
// cancels the order at start. The shopper's order page says it in words.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startRuntime, screenshots, shopForTests } from './runtime.mjs';

const shop = shopForTests();

async function placeOrder(key, sku, quantity, paymentMethod) {
  const response = await fetch(`${shop.runtime.base}/checkout`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify({
      lines: [{ sku, quantity }],
      email: 'anna@example.de',
      shipping_address: { name: 'Anna Muster', street: 'Hauptstraße 1', postal_code: '10115', city: 'Berlin', country: 'DE' },
      payment_method: paymentMethod,
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

async function staffPage() {
  const page = await shop.browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('dialog', (dialog) => dialog.accept());
  await page.goto(`${shop.runtime.base}/admin/`);
  await page.getByLabel('E-mail').fill('lena@kontor.example');
  await page.getByTestId('staff-sign-in').click();
  await page.getByTestId('order-search').waitFor();
  return { page, errors };
}

async function openOrder(page, order) {
  await page.goto(`${shop.runtime.base}/admin/#/orders/${order.id}`);
  await page.getByTestId('lifecycle').waitFor();
}

test('staff record a payment and cancel an order; its stock comes back', async () => {
  const { page, errors } = await staffPage();

  // A payment: the form offers what is due; the status follows.
  const paying = await placeOrder('life-pay', 'TR-CHINO-BEIGE', 1, 'invoice');
  await openOrder(page, paying);
  const form = page.getByTestId('payment-form');
  assert.equal(await form.getByTestId('payment-amount').inputValue(), paying.total);
  await form.getByTestId('payment-amount').fill('100');
  await form.getByTestId('payment-reference').fill('Überweisung 4711');
  await form.getByTestId('record-payment').click();
  await form.locator('[data-error-for=amount]').getByText(/is due/).waitFor();
  await form.getByTestId('payment-amount').fill('20,00');
  await form.getByTestId('record-payment').click();
  await page.getByTestId('payments').getByText('Überweisung 4711').waitFor();
  assert.match(await page.getByTestId('due').textContent(), /39\.90/);
  assert.match(await page.locator('.meta').textContent(), /Partly paid/);

  // Notes: an internal one for colleagues, one for the customer.
  await page.getByTestId('note-text').fill('Customer called: wants it before Friday.');
  await page.getByTestId('add-note').click();
  await page.locator('[data-testid=note][data-visible=false]').waitFor();
  await page.getByTestId('note-text').fill('Your trousers leave on Monday.');
  await page.getByTestId('note-visible').check();
  await page.getByTestId('add-note').click();
  await page.locator('[data-testid=note][data-visible=true]').waitFor();
  const shopperView = await shop.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await shopperView.goto(`${shop.runtime.base}/#/order/${paying.id}?token=${paying.access_token}`);
  await shopperView.getByTestId('notes').waitFor();
  assert.equal(await shopperView.getByTestId('note').count(), 1);
  assert.match(await shopperView.getByTestId('notes').textContent(), /leave on Monday/);
  assert.doesNotMatch(await shopperView.content(), /before Friday/, 'the internal note stays internal');

  // A cancellation: stock back, the order closed, the customer e-mailed.
  const before = await stockOf('BE-LEATHER-BROWN');
  const cancelling = await placeOrder('life-cancel', 'BE-LEATHER-BROWN', 2, 'invoice');
  assert.equal(await stockOf('BE-LEATHER-BROWN'), before - 2);
  await openOrder(page, cancelling);
  await page.getByTestId('cancel-reason').fill('The belt is discontinued');
  await page.getByTestId('cancel-order').click();
  await page.getByTestId('order-closed').waitFor();
  assert.equal(await stockOf('BE-LEATHER-BROWN'), before, 'both belts are back');
  assert.match(await page.getByTestId('history').textContent(), /Cancelled\s+by staff lena@kontor\.example/);
  await page.screenshot({ path: join(screenshots, 'admin-cancelled.png'), fullPage: true });

  const guest = await shop.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await guest.goto(`${shop.runtime.base}/#/order/${cancelling.id}?token=${cancelling.access_token}`);
  await guest.getByTestId('order-cancelled').waitFor();
  assert.equal(await guest.getByTestId('order-status').textContent(), 'Cancelled');

  await page.getByRole('link', { name: 'Mail outbox' }).click();
  await page.getByTestId('mail').first().waitFor();
  const deadline = Date.now() + 10_000;
  let subjects = [];
  for (;;) {
    subjects = await page.getByTestId('mail').locator('strong').allTextContents();
    if (subjects.some((s) => s.includes('has been cancelled')) || Date.now() > deadline) break;
    await page.waitForTimeout(300);
    await page.reload();
    await page.getByTestId('mail').first().waitFor();
  }
  assert.ok(subjects.includes(`Your order ${cancelling.number} has been cancelled`), subjects.join(' | '));
  assert.deepEqual(errors, []);
});

test('a shopper cancels before packing; an unpaid prepayment order expires', async () => {
  // The shopper cancels from the order's link while nothing is packed.
  const mine = await placeOrder('life-mine', 'SO-COTTON-3PK', 1, 'invoice');
  const shopper = await shop.browser.newPage({ viewport: { width: 1280, height: 900 } });
  shopper.on('dialog', (dialog) => dialog.accept());
  await shopper.goto(`${shop.runtime.base}/#/order/${mine.id}?token=${mine.access_token}`);
  await shopper.getByTestId('cancel-order').click();
  await shopper.getByTestId('order-cancelled').waitFor();
  assert.equal(await shopper.getByTestId('cancel-order').count(), 0);

  // A prepayment order whose money never comes.
  const before = await stockOf('JA-WAX-OLIVE');
  const unpaid = await placeOrder('life-unpaid', 'JA-WAX-OLIVE', 1, 'prepayment');
  await shopper.goto(`${shop.runtime.base}/#/order/${unpaid.id}?token=${unpaid.access_token}`);
  await shopper.getByTestId('amount-due').waitFor();
  assert.equal(await shopper.getByTestId('payment-status').textContent(), 'Awaiting payment');
  assert.equal(await stockOf('JA-WAX-OLIVE'), before - 1);

  // Fifteen days later (the shop's deadline is 14): the sweep at start
  // cancels it and puts the jacket back.
  await shop.runtime.stop({ keepData: true });
  shop.runtime = await startRuntime({ data: shop.runtime.data, env: { KONTOR_CLOCK_OFFSET_DAYS: '15' } });
  const deadline = Date.now() + 10_000;
  while (await stockOf('JA-WAX-OLIVE') !== before && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(await stockOf('JA-WAX-OLIVE'), before, 'the jacket is back');
  await shopper.goto(`${shop.runtime.base}/#/order/${unpaid.id}?token=${unpaid.access_token}`);
  await shopper.getByTestId('order-cancelled').waitFor();
  assert.equal(await shopper.getByTestId('payment-status').textContent(), 'Nothing to pay');
  await shopper.screenshot({ path: join(screenshots, 'order-expired.png'), fullPage: true });

  const { page, errors } = await staffPage();
  await openOrder(page, unpaid);
  assert.match(await page.getByTestId('history').textContent(), /system \(no payment within 14 days\)/);
  assert.deepEqual(errors, []);
});
