// The pages in German and in English: every text the modules show has its
// German in the message file (checked over the sources, and over what the
// pages asked for while a guest bought in German), a guest buys in each
// language with money and labels written its way, the order's e-mail
// follows the page's language, and the switch in the header is
// remembered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { screenshots, shopForTests } from './runtime.mjs';

const storefront = resolve(import.meta.dirname, '..', '..', 'storefront');
const german = JSON.parse(readFileSync(join(storefront, 'i18n', 'de.json'), 'utf8'));
const english = JSON.parse(readFileSync(join(storefront, 'i18n', 'en.json'), 'utf8'));

const sources = [
  ...readdirSync(join(storefront, 'js')).map((f) => join(storefront, 'js', f)),
  ...readdirSync(join(storefront, 'admin', 'js')).map((f) => join(storefront, 'admin', 'js', f)),
].map((path) => readFileSync(path, 'utf8'));
const pages = ['index.html', 'admin/index.html', 'signin.html', '404.html']
  .map((name) => readFileSync(join(storefront, name), 'utf8'));

const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('every text the modules pass to t() has its German, with the same placeholders', () => {
  const literal = /\bt\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g;
  const keys = new Set();
  for (const source of sources) {
    for (const match of source.matchAll(literal)) keys.add(match[2].replace(/\\(['"])/g, '$1'));
  }
  for (const page of pages) {
    for (const match of page.matchAll(/data-i18n>([^<]+)</g)) keys.add(match[1].trim());
  }
  assert.ok(keys.size > 300, `found ${keys.size} texts`);
  const missing = [...keys].filter((key) => !(key in german));
  assert.deepEqual(missing, [], 'texts without German');
  for (const [key, text] of Object.entries(german)) {
    assert.deepEqual(placeholders(text), placeholders(key), `placeholders of "${key}"`);
    assert.notEqual(text.trim(), '', `"${key}" is empty`);
  }
  assert.deepEqual(english, {}, 'English is the key itself');
});

// Texts that come from the shop's data rather than the modules (shown
// through `shopText`): the default return policy's reasons (the API's
// `return_options.reasons`) and the demo catalog's categories.
const SHOP_TEXTS = ['too small', 'too large', 'not as described', 'damaged', 'wrong item', 'changed my mind',
  'belts', 'care', 'jackets', 'shirts', 'socks', 'trousers'];

test('no German is left over: each one translates a text the pages use', () => {
  const everything = sources.join('\n') + pages.join('\n');
  const unused = Object.keys(german).filter((key) => !SHOP_TEXTS.includes(key) && !everything.includes(`'${key}'`)
    && !everything.includes(`"${key}"`) && !everything.includes(`>${key}<`) && !everything.includes(`\`${key}\``));
  assert.deepEqual(unused, []);
});

const shop = shopForTests();

// The e-mail sent to `address`, once the local bus has delivered it.
async function mailTo(address) {
  const login = await fetch(`${shop.runtime.base}/local/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'lena@kontor.example', staff: true }),
  });
  const { token } = await login.json();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await fetch(`${shop.runtime.base}/admin/outbox`, { headers: { authorization: `Bearer ${token}` } });
    const mail = (await answer.json()).find((m) => m.to === address);
    if (mail || Date.now() > deadline) return mail;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Buys the chino as a guest with the page's labels in `words`, and answers
// the order number.
async function buyChino(page, words, email) {
  await page.goto(`${shop.runtime.base}/#/product/TR-CHINO-BEIGE`);
  await page.getByRole('button', { name: words.addToCart }).click();
  await page.getByText(words.added).waitFor();
  await page.goto(`${shop.runtime.base}/#/checkout`);
  await page.getByLabel(words.email, { exact: true }).fill(email);
  await page.getByLabel(words.name).fill('Anna Muster');
  await page.getByLabel(words.street).fill('Hauptstraße 1');
  await page.getByLabel(words.postalCode).fill('10115');
  await page.getByLabel(words.city).fill('Berlin');
  await page.getByTestId('place-order').click();
  await page.getByRole('heading', { name: words.thanks }).waitFor();
  return page.getByTestId('order-number').textContent();
}

test('a guest buys in German, the shop\'s default: labels, money, dates and the e-mail in German', async () => {
  const page = await shop.browser.newPage({ language: null, viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${shop.runtime.base}/`);
  await page.locator('[data-testid=product-card]').first().waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Alle Produkte');
  assert.equal(await page.getByTestId('language-switch').inputValue(), 'de');
  // Money as German shops write it: 59,90 €.
  const price = await page.locator('[data-testid=product-card][data-sku=TR-CHINO-BEIGE] .price').textContent();
  assert.match(price, /^\d+,\d{2}\s€$/);
  await page.screenshot({ path: join(screenshots, 'catalog-de.png') });

  const number = await buyChino(page, {
    addToCart: 'In den Warenkorb', added: 'In den Warenkorb gelegt', email: 'E-Mail', name: 'Vor- und Nachname',
    street: 'Straße und Hausnummer', postalCode: 'Postleitzahl', city: 'Ort', thanks: 'Vielen Dank für Ihre Bestellung!',
  }, 'greta@example.de');
  await page.getByTestId('order-link').click();
  await page.getByTestId('order-line').first().waitFor();
  assert.equal(await page.getByTestId('shipping-status').textContent(), 'Noch nicht versandt');
  assert.match(await page.getByTestId('total').textContent(), /^\d+,\d{2}\s€$/);
  // Dates the German way: 30.11.2026, 10:00.
  assert.match(await page.locator('p.muted').first().textContent(), /\d{2}\.\d{2}\.\d{4}/);
  await page.screenshot({ path: join(screenshots, 'order-de.png'), fullPage: true });

  // The confirmation e-mail speaks the page's language.
  const mail = await mailTo('greta@example.de');
  assert.ok(mail, 'the confirmation was sent');
  assert.match(mail.subject, /Bestellung/);
  assert.ok(mail.subject.includes(number.trim()));

  // The admin page is German too, for the same browser.
  await page.goto(`${shop.runtime.base}/admin/`);
  await page.getByLabel('E-Mail').fill('lena@kontor.example');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByRole('heading', { name: 'Bestellungen' }).waitFor();
  await page.locator(`[data-testid=order-row][data-number="${number.trim()}"]`).getByRole('link').click();
  await page.getByRole('heading', { name: 'Paket packen' }).or(page.getByText('Paket packen')).first().waitFor();
  for (const tab of ['products', 'carriers', 'discounts', 'rules', 'customers', 'credit-notes', 'outbox']) {
    await page.locator(`#tabs a[data-tab=${tab}]`).click();
    await page.locator('#app h1').waitFor();
  }

  const untranslated = await page.evaluate(() => [...globalThis.kontorUntranslated]);
  assert.deepEqual(untranslated, [], 'texts the pages asked for without German');
  assert.deepEqual(errors, []);
});

test('the switch in the header changes the language and is remembered; English writes €59.90', async () => {
  const page = await shop.browser.newPage({ language: null, viewport: { width: 1280, height: 900 } });
  await page.goto(`${shop.runtime.base}/`);
  await page.locator('[data-testid=product-card]').first().waitFor();
  await Promise.all([page.waitForEvent('load'), page.getByTestId('language-switch').selectOption('en')]);
  await page.getByRole('heading', { name: 'All products' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  const price = await page.locator('[data-testid=product-card][data-sku=TR-CHINO-BEIGE] .price').textContent();
  assert.match(price, /^€\d+\.\d{2}$/);
  await page.screenshot({ path: join(screenshots, 'catalog-en.png') });

  const number = await buyChino(page, {
    addToCart: 'Add to cart', added: 'Added to your cart', email: 'E-mail', name: 'Full name',
    street: 'Street and number', postalCode: 'Postal code', city: 'City', thanks: 'Thank you for your order!',
  }, 'george@example.co.uk');
  const mail = await mailTo('george@example.co.uk');
  assert.ok(mail, 'the confirmation was sent');
  assert.match(mail.subject, /order/i);
  assert.doesNotMatch(mail.subject, /Bestellung/);
  assert.ok(mail.subject.includes(number.trim()));

  // Remembered: a new visit is still English, and the admin page too.
  await page.goto(`${shop.runtime.base}/#/cart`);
  await page.getByRole('heading', { name: 'Your cart' }).waitFor();
  await page.goto(`${shop.runtime.base}/admin/`);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await Promise.all([page.waitForEvent('load'), page.getByTestId('language-switch').selectOption('de')]);
  await page.getByRole('button', { name: 'Anmelden' }).waitFor();
});
