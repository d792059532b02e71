// A split delivery through the pages: a guest orders a shirt and a flannel
// shirt that is out of stock; staff pack and ship the shirt, restock the
// flannel shirt and ship it in a second parcel; DHL reports the first
// parcel delivered by signed webhook; the guest's order page shows both
// parcels with their status and tracking links.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { screenshots, shopForTests } from './runtime.mjs';

const shop = shopForTests();

async function placeOrder() {
  const response = await fetch(`${shop.runtime.base}/checkout`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'browser-split-1' },
    body: JSON.stringify({
      lines: [{ sku: 'SH-OXFORD-WHITE', quantity: 1 }, { sku: 'SH-FLANNEL-RED', quantity: 1 }],
      email: 'anna@example.de',
      shipping_address: { name: 'Anna Muster', street: 'Hauptstraße 1', postal_code: '10115', city: 'Berlin', country: 'DE' },
      payment_method: 'invoice',
      language: 'en',
    }),
  });
  assert.equal(response.status, 201);
  return response.json();
}

// A carrier's signed webhook, as DHL would send it.
async function carrierSays(carrier, body) {
  const raw = JSON.stringify(body);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', 'local-webhook-secret').update(`${t}.${raw}`).digest('hex');
  const response = await fetch(`${shop.runtime.base}/webhooks/carriers/${carrier}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Kontor-Signature': `t=${t},v1=${v1}` },
    body: raw,
  });
  return { status: response.status, answer: await response.json() };
}

async function pack(page, line, carrier, tracking) {
  const form = page.getByTestId('pack-form');
  await form.waitFor();
  for (const input of await form.locator('[data-line]').all()) await input.fill('0');
  await form.getByLabel(`Units of ${line}`).fill('1');
  await form.getByTestId('pack-carrier').selectOption(carrier);
  await form.getByTestId('pack-tracking').fill(tracking);
  await form.getByTestId('pack').click();
}

async function ship(page, parcelId) {
  const parcel = page.locator(`[data-testid=parcel][data-id=${parcelId}]`);
  await parcel.waitFor();
  await parcel.getByTestId('parcel-next-status').selectOption('shipped');
  await parcel.getByTestId('parcel-set-status').click();
  await page.locator(`[data-testid=parcel][data-id=${parcelId}] [data-testid=parcel-status]`, { hasText: 'shipped' }).waitFor();
}

test('staff split an order into two parcels and the customer follows both', async () => {
  const order = await placeOrder();
  assert.equal(order.backordered[0].sku, 'SH-FLANNEL-RED');
  const page = await shop.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));

  await page.goto(`${shop.runtime.base}/admin/`);
  await page.getByLabel('E-mail').fill('lena@kontor.example');
  await page.getByTestId('staff-sign-in').click();
  await page.getByTestId('order-search').fill(order.number);
  await page.getByTestId('order-search-submit').click();
  await page.locator(`[data-testid=order-row][data-number="${order.number}"]`).getByRole('link').click();
  await page.getByTestId('pack-form').waitFor();

  // Parcel 1: the shirt. The flannel shirt is not in stock yet, and a
  // mistyped DHL number is refused with the reason.
  await pack(page, 'L2', 'dpd', '01234567890123');
  await page.getByTestId('pack-error').getByText(/in stock/).waitFor();
  await pack(page, 'L1', 'dhl', '0034 0434 1610 9404 2558');
  await page.getByTestId('pack-error').getByText(/check digit .* would be 7/).waitFor();
  await pack(page, 'L1', 'dhl', '0034 0434 1610 9404 2557');
  await ship(page, 'S1');

  // The flannel shirt arrives: restock it, then ship it in parcel 2.
  await page.getByRole('link', { name: 'Products' }).click();
  const flannel = page.locator('[data-testid=product-row][data-sku=SH-FLANNEL-RED]');
  await flannel.getByLabel('Stock of SH-FLANNEL-RED').fill('4');
  await flannel.getByTestId('save-product').click();
  await flannel.getByText('Saved').waitFor();
  await page.goto(`${shop.runtime.base}/admin/#/orders/${order.id}`);
  await pack(page, 'L2', 'dpd', '01234567890123');
  await ship(page, 'S2');
  await page.screenshot({ path: join(screenshots, 'admin-parcels.png'), fullPage: true });

  // The shop uses its own DPD tracking page from now on.
  await page.getByRole('link', { name: 'Carriers' }).click();
  await page.getByTestId('carrier-dpd').fill('https://tracking.example/dpd/{tracking}');
  await page.getByTestId('save-carriers').click();
  await page.getByTestId('carriers-form').getByText('Saved').waitFor();

  // DHL delivers parcel 1; a repeat of its message changes nothing.
  const message = { event_id: 'dhl-evt-1', tracking_number: '00340434161094042557', status: 'delivered', location: 'Berlin' };
  assert.deepEqual(await carrierSays('dhl', message), { status: 200, answer: { outcome: 'applied' } });
  assert.deepEqual(await carrierSays('dhl', message), { status: 202, answer: { outcome: 'duplicate' } });
  // News without a status of Kontor's is kept for staff, and the shopper
  // does not see it.
  const news = { event_id: 'dhl-evt-2', tracking_number: '00340434161094042557', status: 'unknown' };
  assert.deepEqual(await carrierSays('dhl', news), { status: 202, answer: { outcome: 'recorded' } });
  await page.goto(`${shop.runtime.base}/admin/#/orders/${order.id}`);
  await page.locator('[data-testid=parcel][data-id=S1] [data-testid=parcel-reported]').getByText('DHL unknown').waitFor();

  // The guest's order page shows both parcels.
  const guest = await shop.browser.newPage({ viewport: { width: 1280, height: 1100 } });
  await guest.goto(`${shop.runtime.base}/#/order/${order.id}?token=${order.access_token}`);
  await guest.getByTestId('parcels').waitFor();
  assert.equal(await guest.getByTestId('parcel').count(), 2);
  const first = guest.locator('[data-testid=parcel][data-id=S1]');
  const second = guest.locator('[data-testid=parcel][data-id=S2]');
  assert.equal(await first.getByTestId('parcel-status').textContent(), 'Delivered');
  assert.equal(await second.getByTestId('parcel-status').textContent(), 'Shipped');
  assert.match(await first.textContent(), /Oxford shirt/);
  assert.match(await second.textContent(), /Flannel shirt/);
  assert.match(await first.getByTestId('tracking-link').getAttribute('href'), /piececode=00340434161094042557/);
  assert.equal(await second.getByTestId('tracking-link').getAttribute('href'), 'https://tracking.example/dpd/01234567890123');
  assert.equal(await guest.getByTestId('shipping-status').textContent(), 'Partly delivered');
  assert.doesNotMatch(await first.textContent(), /unknown/);
  await guest.screenshot({ path: join(screenshots, 'order-parcels.png'), fullPage: true });

  // Two "on its way" e-mails and one "delivered", nothing for the repeat.
  await page.getByRole('link', { name: 'Mail outbox' }).click();
  await page.getByTestId('mail').first().waitFor();
  const deadline = Date.now() + 10_000;
  let subjects = [];
  for (;;) {
    await page.reload();
    await page.getByTestId('mail').first().waitFor();
    subjects = await page.getByTestId('mail').locator('strong').allTextContents();
    if (subjects.length >= 4 || Date.now() > deadline) break;
    await page.waitForTimeout(300);
  }
  assert.equal(subjects.filter((s) => s.includes('is on its way')).length, 2, subjects.join(' | '));
  assert.equal(subjects.filter((s) => s.includes('has been delivered')).length, 1, subjects.join(' | '));
  assert.deepEqual(errors, []);
});
