// Long lists go on: with more orders than a page holds, the admin's order
// list shows the first 50 and a "Show more" that reads the next page
// (the answer's `Link: <…>; rel="next"`), until every order is listed,
// each once; the mail outbox pages the same way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shopForTests } from './runtime.mjs';

const shop = shopForTests();

async function api(method, path, body, headers = {}) {
  const response = await fetch(`${shop.runtime.base}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

test('staff page through more orders than one page holds', async () => {
  const { token } = await api('POST', '/local/token', { email: 'lena@kontor.example', staff: true });
  const staff = { Authorization: `Bearer ${token}` };
  const belt = (await api('GET', '/admin/products', undefined, staff)).find((p) => p.sku === 'BE-LEATHER-BROWN');
  await api('PATCH', '/admin/products/BE-LEATHER-BROWN', { version: belt.version, stock: 500 }, staff);
  const address = { name: 'Paul Seite', street: 'Hauptstraße 1', postal_code: '10115', city: 'Berlin', country: 'DE' };
  const placed = 57;
  for (let n = 0; n < placed; n += 1) {
    await api('POST', '/admin/orders', {
      email: `paul${n}@example.de`,
      lines: [{ sku: 'BE-LEATHER-BROWN', quantity: 1 }],
      shipping_address: address,
      payment_method: 'invoice',
      send_confirmation: n % 2 === 0,
    }, { ...staff, 'Idempotency-Key': `paging-${n}` });
  }

  const page = await shop.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${shop.runtime.base}/admin/`);
  await page.getByLabel('E-mail').fill('lena@kontor.example');
  await page.getByTestId('staff-sign-in').click();
  const rows = page.getByTestId('order-row');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 50, 'the first page');
  const more = page.getByTestId('show-more');
  assert.ok(await more.isVisible());
  await more.click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=order-row]').length === n, placed);
  await page.waitForSelector('[data-testid=show-more]', { state: 'hidden' });
  const numbers = await rows.evaluateAll((all) => all.map((row) => row.dataset.number));
  assert.equal(new Set(numbers).size, placed, 'each order once');
  // A row "Show more" added opens its order like the first ones.
  await rows.nth(placed - 1).locator('td').nth(2).click();
  await page.getByTestId('order-number').waitFor();

  // The outbox holds one confirmation per other order: 29, on one page.
  await page.goto(`${shop.runtime.base}/admin/#/outbox`);
  await page.getByTestId('mail').first().waitFor();
  assert.equal(await page.getByTestId('mail').count(), 29);
  assert.ok(!(await page.getByTestId('show-more').isVisible()), 'no next page');
  assert.deepEqual(errors, []);
});
