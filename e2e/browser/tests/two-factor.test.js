// Two-step verification in the web UI: turning it on from the Account page (QR code drawn
// by the server, the key, a first code, the backup codes), the challenge page after the
// password (authenticator code, "trust this device", a backup code), and turning it off.
// Codes are computed here with node:crypto (RFC 6238, HMAC-SHA-1), not by Tessera's code.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';

import { launchBrowser, openPage, screenshot, uniqueUser } from '../lib/browser.js';
import { createUser, startTessera } from '../lib/server.js';
import { signOut, tasksLoaded } from '../lib/ui.js';

let server;
let browser;

before(async () => {
  server = await startTessera();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The six-digit TOTP code of `base32Key`, `offset` 30-second steps from now. */
function totp(base32Key, offset = 0) {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(base32Key)).update(counter).digest();
  const o = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

async function passwordStep(page, user) {
  await page.goto('/sign-in');
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('turn on two-step verification, then sign in with a code, a trusted browser and a backup code', { timeout: 90_000 }, async () => {
  const user = uniqueUser('tf');
  await createUser(server.baseUrl, user);
  const page = await openPage(browser, server.baseUrl);
  await passwordStep(page, user);
  await page.waitForURL('**/tasks');

  // Enrol in the Account page's section (the old /security address leads there).
  await page.getByRole('link', { name: 'Account' }).click();
  await page.waitForURL('**/account');
  const section = page.getByRole('region', { name: 'Two-step verification' });
  await section.getByText('Sign-in asks only for your password.').waitFor();
  await page.goto('/security');
  await page.waitForURL('**/account#account-two-factor');
  await section.getByText('Sign-in asks only for your password.').waitFor();
  await section.getByLabel('Your password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
  const qr = page.getByRole('img', { name: 'QR code of your authenticator key' });
  await qr.waitFor();
  assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml/);
  const key = (await page.locator('.tf-secret').textContent()).trim();
  assert.match(key, /^[A-Z2-7]{32}$/, '160-bit base32 key');
  const codes = (await page.locator('.code-list code').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  await screenshot(page, '30-two-factor-enrol');
  await page.getByLabel('Code from the app', { exact: true }).fill(totp(key));
  await page.getByRole('button', { name: 'Confirm and turn on' }).click();
  await page.getByText('Two-step verification is on.').waitFor();
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByText('10 backup codes left.').waitFor();
  await signOut(page);

  // Password, then the challenge page; a wrong code is explained; trust this browser.
  await passwordStep(page, user);
  await page.waitForURL('**/two-factor');
  await page.getByRole('heading', { name: 'Two-step verification', level: 1 }).waitFor();
  await screenshot(page, '31-two-factor-challenge');
  const good = totp(key, 1);
  await page.getByLabel('Authentication code', { exact: true }).fill(good === '000000' ? '111111' : '000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('#code-error', { hasText: 'isn’t right' }).waitFor();
  await page.getByLabel('Authentication code', { exact: true }).fill(good);
  await page.getByLabel('Trust this device for 30 days').check();
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL('**/tasks');
  await tasksLoaded(page);
  await signOut(page);

  // This browser is trusted: the password is enough, once per (rotated) cookie.
  await passwordStep(page, user);
  await page.waitForURL('**/tasks');
  await signOut(page);

  // Another browser: a backup code instead of the app.
  const other = await openPage(browser, server.baseUrl);
  await passwordStep(other, user);
  await other.waitForURL('**/two-factor');
  await other.getByRole('button', { name: 'Use a backup code instead' }).click();
  await other.getByLabel('Backup code', { exact: true }).fill(codes[0].toLowerCase());
  await other.getByRole('button', { name: 'Verify' }).click();
  await other.waitForURL('**/tasks');

  // The Account page counts what is left, and turning it off needs the password.
  await other.getByRole('link', { name: 'Account' }).click();
  await other.getByText('9 backup codes left.').waitFor();
  await screenshot(other, '32-two-factor-on');
  const off = other.locator('form', { has: other.getByRole('button', { name: 'Turn off' }) });
  await off.getByLabel('Your password', { exact: true }).fill(user.password);
  await off.getByRole('button', { name: 'Turn off' }).click();
  await other.getByText('Sign-in asks only for your password.').waitFor();
  await other.context().close();
  await page.context().close();
});
