// A guest shops in the storefront: browses, follows a cross-sell, sees
// checkout suggestions, checks out, and opens the order from its link.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { screenshots, shopForTests } from './runtime.mjs';

const shop = shopForTests();

test('a guest buys trousers and a belt and sees the order page', async () => {
  const page = await shop.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));

  await page.goto(`${shop.runtime.base}/`);
  await page.locator('#categories').getByRole('link', { name: 'trousers' }).click();
  // The chino is in the full catalog too: wait for the category's own page.
  await page.getByRole('heading', { name: 'trousers' }).waitFor();
  await page.locator('[data-testid=product-card][data-sku=TR-CHINO-BEIGE]').waitFor();
  assert.equal(await page.locator('[data-testid=product-card]').count(), 4, 'four pairs of trousers');
  await page.screenshot({ path: join(screenshots, 'catalog.png') });

  await page.locator('[data-testid=product-card][data-sku=TR-CHINO-BEIGE]').click();
  await page.getByRole('heading', { name: 'Chino, beige' }).waitFor();
  await page.getByTestId('add-to-cart').click();
  await page.getByText('Added to your cart').waitFor();
  assert.equal(await page.locator('#cart-count').textContent(), '1');
  await page.screenshot({ path: join(screenshots, 'product.png') });

  // "Goes well with" leads to the belt.
  await page.getByTestId('cross-sell').locator('[data-sku=BE-LEATHER-BROWN]').click();
  await page.getByRole('heading', { name: 'Leather belt, brown' }).waitFor();
  await page.getByTestId('add-to-cart').click();
  await page.getByText('Added to your cart').waitFor();

  await page.getByTestId('cart-link').click();
  await page.getByTestId('cart-line').nth(1).waitFor();
  assert.equal(await page.getByTestId('cart-line').count(), 2);
  assert.match(await page.getByTestId('total').textContent(), /94\.80/);
  // Checkout selling: socks are suggested, and the belt (in the cart) is not.
  const suggestions = page.getByTestId('suggestions');
  await suggestions.getByText('Cotton socks, 3 pairs').waitFor();
  assert.equal(await suggestions.getByText('Leather belt, brown').count(), 0);
  await page.screenshot({ path: join(screenshots, 'cart.png'), fullPage: true });

  await page.getByTestId('to-checkout').click();
  await page.getByLabel('E-mail', { exact: true }).fill('anna@example.de');
  await page.getByLabel('Full name').fill('Anna Muster');
  await page.getByLabel('Street and number').fill('Hauptstraße 1');
  await page.getByLabel('Postal code').fill('10115');
  await page.getByLabel('City').fill('Berlin');
  await page.getByLabel('Prepayment').check();
  await page.screenshot({ path: join(screenshots, 'checkout.png'), fullPage: true });
  await page.getByTestId('place-order').click();

  const number = await page.getByTestId('order-number').textContent();
  assert.match(number, /^K-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  assert.equal(await page.locator('#cart-count').textContent(), '0', 'the cart is emptied');

  await page.getByTestId('order-link').click();
  await page.getByTestId('order-line').nth(1).waitFor();
  assert.equal(await page.getByTestId('order-number').textContent(), number);
  assert.equal(await page.getByTestId('order-line').count(), 2);
  assert.match(await page.getByTestId('total').textContent(), /94\.80/);
  assert.equal(await page.getByTestId('shipping-status').textContent(), 'Not shipped yet');
  await page.screenshot({ path: join(screenshots, 'order.png'), fullPage: true });

  // The link works in a fresh browser too: it carries everything needed.
  const link = page.url();
  const stranger = await shop.browser.newPage();
  await stranger.goto(link);
  await stranger.getByTestId('order-line').nth(1).waitFor();
  const withoutToken = await shop.browser.newPage();
  await withoutToken.goto(link.replace(/token=[^&]+/, 'token=wrong'));
  await withoutToken.getByText('no such order').waitFor();

  assert.deepEqual(errors, []);
});

test('a field the shop refuses is shown next to the input', async () => {
  const page = await shop.browser.newPage();
  await page.goto(`${shop.runtime.base}/#/product/SO-COTTON-3PK`);
  await page.getByTestId('add-to-cart').click();
  await page.goto(`${shop.runtime.base}/#/checkout`);
  await page.getByLabel('E-mail', { exact: true }).fill('not-an-address');
  await page.getByLabel('Full name').fill('Anna Muster');
  await page.getByLabel('Street and number').fill('Hauptstraße 1');
  await page.getByLabel('Postal code').fill('10115');
  await page.getByLabel('City').fill('Berlin');
  await page.getByTestId('place-order').click();
  const message = page.locator('[data-error-for=email]');
  await message.filter({ hasText: 'e-mail' }).waitFor();
  assert.match(await message.textContent(), /not an e-mail address/);
});
