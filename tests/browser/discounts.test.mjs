// The rule builder in the browser, on the demo shop's discounts: a new
// shopper's cart shows 10 % off, a coupon and its refusal, the "nearly"
// hint for free shipping, and re-prices when the delivery country changes
// at checkout (Austria ships free); the order is charged what the page
// showed. On the admin page the discounts list counts the use; a rule set
// is built in the tree editor (a bad value is shown at its condition),
// simulated with its trace; and a customer given the group `vip` on the
// Customers tab gets the free socks in the next cart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { screenshots, shopForTests } from './runtime.mjs';

const shop = shopForTests({ env: { KONTOR_DEMO_DISCOUNTS: 'on' } });

function watch(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => { if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) errors.push(message.text()); });
  return errors;
}

async function staffPage() {
  const page = await shop.browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors = watch(page);
  page.on('dialog', (dialog) => dialog.accept());
  await page.goto(`${shop.runtime.base}/admin/`);
  await page.getByLabel('E-mail').fill('lena@kontor.example');
  await page.getByTestId('staff-sign-in').click();
  await page.getByTestId('order-search').waitFor();
  return { page, errors };
}

test('a new shopper: 10 %, a coupon, free shipping to Austria, the total charged as shown', async () => {
  const page = await shop.browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = watch(page);
  await page.goto(`${shop.runtime.base}/#/product/SO-COTTON-3PK`);
  await page.getByTestId('add-to-cart').click();
  await page.getByText('Added to your cart').waitFor();
  await page.getByTestId('cart-link').click();
  await page.getByTestId('cart-line').waitFor();
  // 14.90 of socks: 10 % for a new customer, 4.95 shipping, 35.10 more for free shipping.
  await page.locator('[data-testid=discount][data-id=welcome]').waitFor();
  assert.match(await page.locator('[data-testid=discount][data-id=welcome]').textContent(), /1\.49/);
  assert.match(await page.getByTestId('total').textContent(), /18\.36/);
  assert.match(await page.locator('[data-testid=nearly][data-id=shipping]').textContent(), /35\.10/);

  // A code no discount has is refused with the reason; WINTER needs 50 € of goods.
  await page.getByLabel('Coupon code').fill('nope');
  await page.getByLabel('Coupon code').press('Enter');
  await page.getByTestId('coupon-error').getByText(/no discount has the code/).waitFor();
  await page.getByLabel('Coupon code').fill('winter');
  await page.getByLabel('Coupon code').press('Enter');
  await page.getByTestId('coupon-error').getByText(/does not apply to this cart yet/).waitFor();
  await page.locator('[data-testid=nearly][data-id=winter]').waitFor();
  assert.match(await page.locator('[data-testid=nearly][data-id=winter]').textContent(), /35\.10/);
  await page.screenshot({ path: join(screenshots, 'cart-discounts.png'), fullPage: true });
  await page.getByRole('button', { name: 'Remove', exact: true }).last().click();
  await page.getByTestId('cart-line').waitFor();

  // At checkout the summary follows the delivery country.
  await page.getByTestId('to-checkout').click();
  await page.getByTestId('place-order').waitFor();
  assert.match(await page.getByTestId('total').textContent(), /18\.36/);
  await page.getByLabel('Country').selectOption('AT');
  await page.getByTestId('total').getByText('13.41').waitFor();
  await page.getByLabel('E-mail', { exact: true }).fill('neu@example.at');
  await page.getByLabel('Full name').fill('Nina Neu');
  await page.getByLabel('Street and number').fill('Ring 1');
  await page.getByLabel('Postal code').fill('1010');
  await page.getByLabel('City').fill('Wien');
  await page.getByTestId('total').getByText('13.41').waitFor();
  await page.getByTestId('place-order').click();
  await page.getByTestId('order-number').waitFor();
  assert.match(await page.locator('#app').textContent(), /13\.41/);
  assert.deepEqual(errors, []);

  // The same mailbox is not new any more: no 10 % on the next cart.
  const again = await fetch(`${shop.runtime.base}/cart/evaluate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ lines: [{ sku: 'SO-COTTON-3PK', quantity: 1 }], shipping_country: 'DE', email: 'Neu+2@Example.at' }),
  }).then((r) => r.json());
  assert.deepEqual(again.discounts, []);
});

test('staff: discounts with their uses, a rule set built and simulated, a VIP gets free socks', async () => {
  const { page, errors } = await staffPage();
  await page.goto(`${shop.runtime.base}/admin/#/discounts`);
  await page.locator('[data-testid=discount-row][data-id=welcome]').waitFor();
  assert.equal(await page.getByTestId('discount-row').count(), 4);
  assert.match(await page.locator('[data-testid=discount-row][data-id=welcome] [data-testid=discount-uses]').textContent(), /^1/);
  // A discount with a percent over 100 is refused, naming the field.
  await page.getByLabel('Id', { exact: true }).fill('too-much');
  await page.getByLabel('Name', { exact: true }).fill('Too much');
  await page.getByRole('textbox', { name: 'Percent' }).fill('150');
  await page.getByTestId('discount-save').click();
  await page.getByTestId('discount-error').getByText(/percent/).waitFor();

  // A rule set in the tree editor: one condition, Austria.
  await page.goto(`${shop.runtime.base}/admin/#/rules`);
  await page.getByTestId('rule-form').waitFor();
  await page.locator('#rule-form').getByLabel('Id').fill('austria');
  await page.locator('#rule-form').getByLabel('Name').fill('Ships to Austria');
  const condition = page.getByTestId('rule-condition').first();
  await condition.getByLabel('Field').selectOption('shipping.country');
  await condition.getByLabel('Operator').selectOption('eq');
  await page.getByTestId('rule-condition').first().getByLabel('Value').fill('XX');
  await page.getByTestId('rule-condition').first().getByLabel('Value').dispatchEvent('change');
  await page.getByTestId('rule-save').click();
  await page.getByTestId('rule-error').getByText(/ISO 3166/).waitFor();
  await page.getByTestId('rule-condition').first().getByLabel('Value').fill('AT');
  await page.getByTestId('rule-condition').first().getByLabel('Value').dispatchEvent('change');
  await page.getByTestId('rule-save').click();
  await page.getByTestId('simulate-form').waitFor();
  // The simulator: the rule as edited, against a sample shipping to Germany.
  await page.getByTestId('simulate').click();
  await page.getByTestId('simulation-result').getByText('Does not apply').waitFor();
  const step = page.getByTestId('trace-step').nth(1);
  assert.match(await step.textContent(), /shipping\.country eq/);
  assert.match(await step.textContent(), /"DE"/);
  await page.locator('#simulate-form').getByLabel('Ships to').fill('AT');
  await page.getByTestId('simulate').click();
  await page.getByTestId('simulation-result').getByText('Applies').waitFor();
  await page.screenshot({ path: join(screenshots, 'admin-rules.png'), fullPage: true });

  // Vera orders signed in (her record starts), staff make her a VIP.
  const token = await fetch(`${shop.runtime.base}/local/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'vera@example.de' }),
  }).then((r) => r.json());
  const placed = await fetch(`${shop.runtime.base}/me/checkout`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.token}`, 'Idempotency-Key': 'vera-1' },
    body: JSON.stringify({
      lines: [{ sku: 'BE-LEATHER-BROWN', quantity: 1 }], email: 'vera@example.de', payment_method: 'invoice',
      shipping_address: { name: 'Vera Berg', street: 'Weg 3', postal_code: '50667', city: 'Köln', country: 'DE' },
    }),
  });
  assert.equal(placed.status, 201);
  await page.goto(`${shop.runtime.base}/admin/#/customers`);
  await page.getByTestId('customer-email').fill('vera@example.de');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByTestId('customer-groups').fill('vip');
  await page.getByTestId('save-groups').click();
  await page.getByTestId('customer').getByText('1 order(s)').waitFor();
  assert.equal(await page.getByTestId('customer-groups').inputValue(), 'vip');
  assert.deepEqual(errors, []);

  // Her next cart with two trousers carries the free socks.
  const shopper = await shop.browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await shopper.goto(`${shop.runtime.base}/`);
  await shopper.getByTestId('sign-in-link').click();
  await shopper.getByLabel('E-mail').fill('vera@example.de');
  await shopper.getByTestId('sign-in').click();
  await shopper.getByTestId('account-email').waitFor();
  await shopper.goto(`${shop.runtime.base}/#/product/TR-CHINO-BEIGE`);
  await shopper.getByTestId('add-to-cart').click();
  await shopper.getByText('Added to your cart').waitFor();
  await shopper.getByTestId('add-to-cart').click();
  await shopper.getByTestId('cart-link').click();
  await shopper.locator('[data-testid=gift-line][data-sku=SO-COTTON-3PK]').waitFor();
  assert.match(await shopper.getByTestId('total').textContent(), /119\.80/);
});
