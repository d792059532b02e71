// A partial return of a split delivery through the pages: the order went
// out in two parcels; the shopper sends back one item from each and one of
// two packs of socks from the order's page; staff find it under "open
// returns", approve it, record what arrived (the socks not sellable), see
// the refund before confirming it, and refund it under a credit note. The
// shopper's page and the e-mails follow; the trousers are back in stock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { screenshots, shopForTests } from './runtime.mjs';

const shop = shopForTests();

async function api(method, path, body, token) {
  const response = await fetch(`${shop.runtime.base}${path}`, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(path === '/checkout' ? { 'Idempotency-Key': 'browser-return' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const stockOf = async (sku) => (await api('GET', `/catalog/products/${sku}`)).stock;

test('a partial return of a split delivery, from the shopper to the refund', async () => {
  const placed = await api('POST', '/checkout', {
    lines: [{ sku: 'TR-CHINO-BEIGE', quantity: 1 }, { sku: 'SH-OXFORD-WHITE', quantity: 1 }, { sku: 'SO-COTTON-3PK', quantity: 2 }],
    email: 'anna@example.de',
    shipping_address: { name: 'Anna Muster', street: 'Hauptstraße 1', postal_code: '10115', city: 'Berlin', country: 'DE' },
    payment_method: 'invoice',
    language: 'en',
  });
  const { token } = await api('POST', '/local/token', { email: 'lena@kontor.example', staff: true });
  const order = `/admin/orders/${placed.id}`;
  await api('POST', `${order}/payments`, { amount: placed.total, date: new Date().toISOString().slice(0, 10), reference: 'bank' }, token);
  for (const items of [[{ line_id: 'L1', quantity: 1 }, { line_id: 'L3', quantity: 1 }], [{ line_id: 'L2', quantity: 1 }, { line_id: 'L3', quantity: 1 }]]) {
    await api('POST', `${order}/shipments`, { items, carrier: 'other' }, token);
  }
  for (const parcel of ['S1', 'S2']) {
    await api('POST', `${order}/shipments/${parcel}/status`, { status: 'delivered', notify: false }, token);
  }
  const chinos = await stockOf('TR-CHINO-BEIGE');

  // The shopper asks to return one item from each parcel and one pack of socks.
  const shopper = await shop.browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [];
  shopper.on('pageerror', (error) => errors.push(error.message));
  const link = `${shop.runtime.base}/#/order/${placed.id}?token=${placed.access_token}`;
  await shopper.goto(link);
  await shopper.getByTestId('returns').waitFor();
  await shopper.getByText('Return items', { exact: true }).click();
  const form = shopper.getByTestId('return-form');
  for (const line of ['L1', 'L2', 'L3']) {
    await form.locator(`[data-return-line=${line}]`).fill('1');
  }
  await form.locator('[data-return-reason=L1]').selectOption('too small');
  await form.getByTestId('send-return').click();
  await shopper.getByTestId('return').getByText('Requested').waitFor();

  // Staff find it among the open returns and walk it through.
  const page = await shop.browser.newPage({ viewport: { width: 1400, height: 1200 } });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${shop.runtime.base}/admin/`);
  await page.getByLabel('E-mail').fill('lena@kontor.example');
  await page.getByTestId('staff-sign-in').click();
  await page.getByTestId('filter-return_status').selectOption('requested');
  await page.getByTestId('order-search-submit').click();
  await page.locator(`[data-testid=order-row][data-id="${placed.id}"]`).click();
  const card = page.locator('[data-testid=return][data-id=R1]');
  await card.getByTestId('return-approve').click();
  await page.locator('[data-testid=return][data-id=R1][data-status=approved]').waitFor();
  // The socks came back worn: not back on the shelf.
  await card.locator('[data-restock=L3]').uncheck();
  await card.getByTestId('return-receive').click();
  await page.locator('[data-testid=return][data-id=R1][data-status=received]').waitFor();
  // The refund, as the API computes it, before it is confirmed.
  await card.getByTestId('refundable').getByText('124.70').waitFor();
  await card.getByTestId('return-refund').click();
  await card.getByTestId('return-refund-done').waitFor();
  assert.match(await card.getByTestId('return-refund-done').textContent(), /CN-\d{4}-000001/);
  assert.match(await page.getByTestId('history').textContent(), /Return R1 refunded/);
  await page.screenshot({ path: join(screenshots, 'admin-return.png'), fullPage: true });
  assert.equal(await stockOf('TR-CHINO-BEIGE'), chinos + 1, 'the trousers are back on the shelf');
  await page.getByRole('link', { name: 'Credit notes' }).click();
  await page.getByTestId('credit-note').first().waitFor();
  assert.match(await page.getByTestId('credit-notes').textContent(), new RegExp(placed.number));

  // The shopper sees the refund; the e-mails followed each step.
  await shopper.reload();
  await shopper.getByTestId('return-refund').waitFor();
  assert.match(await shopper.getByTestId('return-refund').textContent(), /124\.70/);
  await shopper.screenshot({ path: join(screenshots, 'order-return.png'), fullPage: true });
  await page.getByRole('link', { name: 'Mail outbox' }).click();
  const deadline = Date.now() + 10_000;
  let subjects = [];
  for (;;) {
    await page.getByTestId('mail').first().waitFor();
    subjects = await page.getByTestId('mail').locator('strong').allTextContents();
    if (subjects.some((s) => s.startsWith('Refund for order')) || Date.now() > deadline) break;
    await page.waitForTimeout(300);
    await page.reload();
  }
  for (const expected of ['Your return R1', 'Return R1 approved', 'Return R1 arrived', `Refund for order ${placed.number}`]) {
    assert.ok(subjects.some((s) => s.startsWith(expected)), `${expected}: ${subjects.join(' | ')}`);
  }
  assert.deepEqual(errors, []);
});

test('a parcel the carrier brought back is taken in again from the order page', async () => {
  const placed = await (await fetch(`${shop.runtime.base}/checkout`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'browser-back' },
    body: JSON.stringify({
      lines: [{ sku: 'BE-LEATHER-BROWN', quantity: 1 }],
      email: 'anna@example.de',
      shipping_address: { name: 'Anna Muster', street: 'Hauptstraße 1', postal_code: '10115', city: 'Berlin', country: 'DE' },
      payment_method: 'invoice',
    }),
  })).json();
  const { token } = await api('POST', '/local/token', { email: 'lena@kontor.example', staff: true });
  const order = `/admin/orders/${placed.id}`;
  await api('POST', `${order}/shipments`, { items: [{ line_id: 'L1', quantity: 1 }], carrier: 'other' }, token);
  for (const status of ['shipped', 'returned_to_sender']) {
    await api('POST', `${order}/shipments/S1/status`, { status, notify: false }, token);
  }
  const belts = await stockOf('BE-LEATHER-BROWN');
  const page = await shop.browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${shop.runtime.base}/admin/`);
  await page.getByLabel('E-mail').fill('lena@kontor.example');
  await page.getByTestId('staff-sign-in').click();
  await page.getByTestId('order-search').waitFor();
  await page.goto(`${shop.runtime.base}/admin/#/orders/${placed.id}`);
  await page.getByTestId('receive-back-restock').click();
  await page.getByText('Taken back in from the carrier.').waitFor();
  assert.equal(await stockOf('BE-LEATHER-BROWN'), belts + 1, 'the belt is back on the shelf');
  // Its unit is left to pack again.
  await page.getByTestId('pack-form').waitFor();
  assert.deepEqual(errors, []);
});
