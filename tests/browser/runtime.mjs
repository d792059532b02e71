// Starts Kontor's local runtime binary on a free port with a fresh data
// folder, and Debian's Chromium through playwright-core, for browser tests.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..');

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

// Starts the runtime; `data` reuses a data folder (a restart), `env` adds
// variables (such as KONTOR_CLOCK_OFFSET_DAYS). A fresh shop starts
// without the demo discounts, so that the tests' totals are the catalog's;
// `env: { KONTOR_DEMO_DISCOUNTS: 'on' }` keeps them.
export async function startRuntime({ data: reuse, env = {} } = {}) {
  const targetDir = process.env.CARGO_TARGET_DIR || join(root, 'target');
  const binary = join(targetDir, 'debug', 'kontor');
  if (!existsSync(binary)) throw new Error(`build the runtime first (cargo build): ${binary} is missing`);
  const port = await freePort();
  const data = reuse || mkdtempSync(join(tmpdir(), 'kontor-browser-'));
  const child = spawn(binary, [], {
    env: { ...process.env, KONTOR_DEMO_DISCOUNTS: 'off', ...env, KONTOR_ADDR: `127.0.0.1:${port}`, KONTOR_DATA: data, RUST_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`${base}/openapi.json`);
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error('the local runtime did not start within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    data,
    // Stops the runtime; `keepData` leaves the data folder for a restart.
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      if (!keepData) rmSync(data, { recursive: true, force: true });
    },
  };
}

// Debian's Chromium, headless. Every page it opens is watched for the
// runtime's Content Security Policy refusing something (an inline script,
// a foreign source): closing the browser then fails, so each test file
// fails on any violation of its pages.
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const violations = [];
  const newPage = browser.newPage.bind(browser);
  // Pages open in English unless a test asks for another language
  // (`newPage({ language: 'de' })`, or `language: null` for the shop's own
  // default): the tests' texts are English. A language the page switches
  // to itself is kept.
  browser.newPage = async ({ language = 'en', ...options } = {}) => {
    const page = await newPage(options);
    if (language) {
      await page.addInitScript((chosen) => {
        if (!localStorage.getItem('kontor.language')) localStorage.setItem('kontor.language', chosen);
      }, language);
    }
    page.on('console', (message) => {
      if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
        violations.push(`${page.url()}: ${message.text()}`);
      }
    });
    return page;
  };
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    if (violations.length) throw new Error(`Content Security Policy violations:\n${violations.join('\n')}`);
  };
  return browser;
}

export const screenshots = join(root, 'docs', 'screenshots');

// One runtime and one browser for a test file, started before its first
// test and stopped after its last: `shop.runtime` (which a test may replace
// with a restarted one) and `shop.browser`.
export function shopForTests(options) {
  const shop = { runtime: null, browser: null };
  before(async () => {
    shop.runtime = await startRuntime(options);
    shop.browser = await launchBrowser();
  });
  after(async () => {
    await shop.browser?.close();
    await shop.runtime?.stop();
  });
  return shop;
}
