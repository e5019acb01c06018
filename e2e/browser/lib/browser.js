// Launches Debian's Chromium through playwright-core (which never downloads a browser),
// and helpers shared by the tests: fresh contexts, unique users, bounded waits, screenshots.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

import { REPO_ROOT } from './server.js';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const ARTIFACTS = join(REPO_ROOT, 'e2e/artifacts/screenshots');

/** Every Playwright wait is bounded by this unless a call says otherwise. */
export const ACTION_TIMEOUT_MS = 10_000;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };
/** A phone's user agent, so the sessions page has two different devices to show. */
export const PHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * A fresh browser context (its own cookies) on `baseUrl`, with bounded waits. Console
 * errors and CSP violations are collected in `page.problems` so tests can assert none.
 */
export async function openPage(browser, baseUrl, { viewport = DESKTOP, colorScheme = 'light', userAgent } = {}) {
  const context = await browser.newContext({ baseURL: baseUrl, viewport, colorScheme, userAgent, reducedMotion: 'reduce' });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(msg.text());
  });
  page.on('pageerror', (err) => page.problems.push(String(err)));
  return page;
}

let counter = 0;
/** A user nobody else in this run has. */
export function uniqueUser(prefix = 'user') {
  counter += 1;
  const tag = `${Date.now().toString(36)}${counter}`;
  return {
    name: `${prefix[0].toUpperCase()}${prefix.slice(1)} Example`,
    email: `${prefix}.${tag}@example.com`,
    password: `correct horse ${tag}`,
  };
}

/** Saves a full-page screenshot under e2e/artifacts/screenshots/. */
export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  // Let toasts and transitions settle so the picture shows the page itself.
  await page.evaluate(() => document.fonts?.ready);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}
