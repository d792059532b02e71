// A customer signs in, buys, and finds the order in the account; a staff
// member signs in to the admin page, finds that order by the customer's
// e-mail and by its number, reads it whole, and changes a product's stock,
// which the storefront then shows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { screenshots, shopForTests } from './runtime.mjs';

const shop = shopForTests();
let orderNumber;

function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

test('a customer signs in, buys, and finds the order in the account', async () => {
  const page = await shop.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);

  await page.goto(`${shop.runtime.base}/`);
  await page.getByTestId('sign-in-link').click();
  await page.getByLabel('E-mail').fill('eva@example.de');
  await page.getByTestId('sign-in').click();
  await page.getByTestId('account-email').waitFor();
  assert.equal(await page.getByTestId('account-email').textContent(), 'eva@example.de');
  assert.match(await page.locator('#app').textContent(), /No orders yet/);

  await page.goto(`${shop.runtime.base}/#/product/SH-OXFORD-WHITE`);
  await page.getByTestId('add-to-cart').click();
  await page.getByText('Added to your cart').waitFor();
  await page.getByTestId('cart-link').click();
  await page.getByTestId('to-checkout').click();
  await page.getByTestId('checkout-as').waitFor();
  assert.equal(await page.getByLabel('E-mail', { exact: true }).inputValue(), 'eva@example.de', 'prefilled');
  await page.getByLabel('Full name').fill('Eva Berg');
  await page.getByLabel('Street and number').fill('Lindenallee 7');
  await page.getByLabel('Postal code').fill('20095');
  await page.getByLabel('City').fill('Hamburg');
  await page.getByTestId('place-order').click();
  await page.getByTestId('order-number').waitFor();
  orderNumber = (await page.getByTestId('order-number').textContent()).trim();
  assert.match(orderNumber, /^K-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  assert.match(await page.getByTestId('order-link').getAttribute('href'), /#\/account\/order\//);

  await page.getByTestId('account-link').click();
  const row = page.locator(`[data-testid=my-order][data-number="${orderNumber}"]`);
  await row.waitFor();
  assert.equal(await page.getByTestId('my-order').count(), 1);
  await page.screenshot({ path: join(screenshots, 'account.png') });
  await row.getByRole('link', { name: orderNumber }).click();
  await page.getByTestId('order-line').first().waitFor();
  assert.match(await page.locator('#app').textContent(), /Oxford shirt/);
  assert.deepEqual(errors, []);
});

test('staff find the order by e-mail and number and change a product\'s stock', async () => {
  assert.ok(orderNumber, 'the customer test placed an order');
  const page = await shop.browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = watchErrors(page);

  await page.goto(`${shop.runtime.base}/admin/`);
  await page.getByTestId('staff-sign-in').waitFor();
  await page.getByLabel('E-mail').fill('lena@kontor.example');
  await page.getByTestId('staff-sign-in').click();
  await page.getByTestId('order-search').waitFor();

  await page.getByTestId('order-search').fill('EVA@example.de');
  await page.getByTestId('order-search-submit').click();
  const found = page.locator(`[data-testid=order-row][data-number="${orderNumber}"]`);
  await found.waitFor();
  assert.equal(await page.getByTestId('order-row').count(), 1, 'only Eva\'s order');
  await page.screenshot({ path: join(screenshots, 'admin-orders.png') });

  await page.getByTestId('order-search').fill(orderNumber.toLowerCase());
  await page.getByTestId('order-search-submit').click();
  await page.waitForFunction((n) => location.hash.includes(n.toLowerCase()), orderNumber);
  await found.waitFor();
  assert.equal(await page.getByTestId('order-row').count(), 1);
  await found.getByRole('link', { name: orderNumber }).click();
  await page.getByTestId('history').waitFor();
  assert.match(await page.getByTestId('history').textContent(), /placed/);
  assert.match(await page.locator('#app').textContent(), /Eva Berg/);
  await page.screenshot({ path: join(screenshots, 'admin-order.png'), fullPage: true });

  // Filters: no order is paid yet.
  await page.goto(`${shop.runtime.base}/admin/#/orders?payment_status=paid`);
  await page.getByTestId('no-orders').waitFor();

  await page.getByRole('link', { name: 'Products' }).click();
  const belt = page.locator('[data-testid=product-row][data-sku=BE-LEATHER-BROWN]');
  await belt.waitFor();
  await belt.getByLabel('Stock of BE-LEATHER-BROWN').fill('3');
  await belt.getByTestId('save-product').click();
  await belt.getByText('Saved').waitFor();
  await page.screenshot({ path: join(screenshots, 'admin-products.png') });

  // A bad value is refused next to its field, and nothing changes.
  await belt.getByLabel('Cross-sell of BE-LEATHER-BROWN').fill('NO-SUCH-SKU');
  await belt.getByTestId('save-product').click();
  await belt.locator('[data-error-for=cross_sell]').getByText(/no product has the sku/).waitFor();

  // The storefront shows the new stock.
  const storefront = await shop.browser.newPage();
  await storefront.goto(`${shop.runtime.base}/#/product/BE-LEATHER-BROWN`);
  await storefront.getByText('Only 3 left').waitFor();

  await page.getByRole('link', { name: 'Mail outbox' }).click();
  await page.getByTestId('mail').first().waitFor();
  assert.match(await page.locator('#app').textContent(), new RegExp(orderNumber));
  assert.deepEqual(errors, []);
});
