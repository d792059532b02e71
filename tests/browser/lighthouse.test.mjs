// Lighthouse over the storefront's pages and the admin page, with its
// default (mobile) preset in Debian's Chromium: every page scores at least
// 95 in performance, accessibility, best practices and SEO, and its layout
// shifts by less than 0.1. The cart, checkout and admin pages are measured
// as a shopper or staff member sees them: their browser storage holds a
// cart or a session before Lighthouse loads the page.
//
// LIGHTHOUSE_REPORT=<file> also writes the scores as a Markdown table (what
// docs/figures.md shows).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import puppeteer from 'puppeteer-core';
import { startRuntime } from './runtime.mjs';

const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];
const LEAST_SCORE = 95;
const MOST_LAYOUT_SHIFT = 0.1;

let runtime;
let chrome;
let browser;
const rows = [];

before(async () => {
  runtime = await startRuntime();
  chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROMIUM || '/usr/bin/chromium',
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}` });
});

after(async () => {
  if (process.env.LIGHTHOUSE_REPORT && rows.length) {
    const table = ['| page | performance | accessibility | best practices | SEO | layout shift |', '|---|---|---|---|---|---|']
      .concat(rows.map((r) => `| ${r.page} | ${r.scores.join(' | ')} | ${r.shift} |`));
    writeFileSync(process.env.LIGHTHOUSE_REPORT, `${table.join('\n')}\n`);
  }
  await browser?.disconnect();
  await chrome?.kill();
  await runtime?.stop();
});

async function api(method, path, body, headers = {}) {
  const response = await fetch(`${runtime.base}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

// Runs Lighthouse on `hash` of the shop, with `storage` (key → value) in the
// page's localStorage first, and checks the scores.
async function audit(name, hash, storage = {}) {
  const page = await browser.newPage();
  try {
    await page.goto(`${runtime.base}/404.html`);
    await page.evaluate((entries) => {
      localStorage.clear();
      for (const [key, value] of entries) localStorage.setItem(key, value);
    }, Object.entries(storage));
    const result = await lighthouse(`${runtime.base}${hash}`, {
      logLevel: 'error',
      output: 'json',
      onlyCategories: CATEGORIES,
      disableStorageReset: true,
    }, undefined, page);
    const { lhr } = result;
    assert.equal(lhr.runtimeError, undefined, `${name}: ${JSON.stringify(lhr.runtimeError)}`);
    const scores = CATEGORIES.map((category) => Math.round(lhr.categories[category].score * 100));
    const shift = lhr.audits['cumulative-layout-shift'].numericValue;
    rows.push({ page: name, scores, shift: shift.toFixed(3) });
    const failing = Object.values(lhr.audits)
      .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'manual' && a.scoreDisplayMode !== 'notApplicable')
      .map((a) => `${a.id} (${a.displayValue || a.score})`);
    const shifted = (lhr.audits['layout-shifts'].details?.items || []).map((item) => `${item.node?.snippet} (${item.score})`);
    CATEGORIES.forEach((category, i) => {
      assert.ok(scores[i] >= LEAST_SCORE, `${name}: ${category} ${scores[i]} < ${LEAST_SCORE}; audits below full marks: ${failing.join(', ')}; shifted: ${shifted.join(', ')}`);
    });
    assert.ok(shift < MOST_LAYOUT_SHIFT, `${name}: cumulative layout shift ${shift}: ${shifted.join(', ')}`);
  } finally {
    await page.close();
  }
}

const cart = { 'kontor.cart': JSON.stringify([{ sku: 'TR-CHINO-BEIGE', quantity: 1 }, { sku: 'BE-LEATHER-BROWN', quantity: 1 }]) };

test('the storefront home page', () => audit('home', '/#/'));
test('a category', () => audit('category', '/#/?category=trousers'));
test('a product page', () => audit('product', '/#/product/TR-CHINO-BEIGE'));
test('the cart with two products', () => audit('cart', '/#/cart', cart));
test('the checkout', () => audit('checkout', '/#/checkout', cart));

test("a guest's order page", async () => {
  const order = await api('POST', '/checkout', {
    lines: [{ sku: 'TR-CHINO-BEIGE', quantity: 1 }],
    email: 'anna@example.de',
    shipping_address: { name: 'Anna Muster', street: 'Hauptstraße 1', postal_code: '10115', city: 'Berlin', country: 'DE' },
    payment_method: 'invoice',
    language: 'en',
  }, { 'Idempotency-Key': 'lighthouse-order' });
  await audit('order', `/#/order/${order.id}?token=${order.access_token}`);
});

test("the admin page's order list, signed in as staff", async () => {
  const { token, expires_at } = await api('POST', '/local/token', { email: 'lena@kontor.example', staff: true });
  const session = JSON.stringify({ token, email: 'lena@kontor.example', staff: true, expires_at });
  await audit('admin', '/admin/#/orders', { 'kontor.session': session });
});
