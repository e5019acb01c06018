// The web UI's provider buttons in Chromium: the sign-in page shows a button per configured
// provider; clicking it goes to a real OpenID Connect provider (npm `oidc-provider`), whose
// login and consent pages are filled in; the browser comes back signed in on /tasks. An
// account that cannot be linked comes back to /sign-in with a message saying what to do.
// The Account page's "Sign-in methods" section links the provider to a password account
// (there and back through the provider), unlinks it, and refuses to unlink a provider-only
// user's last way in, saying so.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import { ACCOUNTS, CLIENT_ID, CLIENT_SECRET, startOidcProvider } from '../lib/oidc-op.mjs';
import { freePort, repoRoot, signUpRaw, startTessera } from '../lib/tessera.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = path.join(repoRoot, 'e2e/artifacts/screenshots');

describe('Chromium: the provider button on the sign-in page', () => {
  let op;
  let tessera;
  let browser;

  before(async () => {
    const opPort = await freePort();
    const issuer = `http://127.0.0.1:${opPort}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-social-ui-'));
    const config = path.join(dir, 'tessera.toml');
    fs.writeFileSync(
      config,
      `[providers.test-oidc]\nissuer = "${issuer}"\nclient_id = "${CLIENT_ID}"\nclient_secret = "${CLIENT_SECRET}"\nname = "Test OIDC"\n`,
    );
    tessera = await startTessera({ args: ['--config', config] });
    op = await startOidcProvider({ port: opPort, redirectUris: [`${tessera.baseURL}/api/auth/callback/test-oidc`] });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });

  after(async () => {
    await browser?.close();
    await tessera?.stop();
    await op?.stop();
  });

  /** Clicks the provider button and fills in the provider's pages as `login`. */
  async function throughProvider(page, login) {
    await page.goto(`${tessera.baseURL}/sign-in`);
    await page.getByRole('button', { name: 'Continue with Test OIDC' }).click();
    await atProvider(page, login);
  }

  /** Fills in the provider's login (and consent) pages as `login`; back on Tessera. */
  async function atProvider(page, login) {
    await page.waitForURL(`${op.issuer}/**`);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    // consent (first time for this account), then back to Tessera
    await page.waitForURL((url) => url.origin === tessera.baseURL || url.pathname.startsWith('/interaction/'));
    if (new URL(page.url()).origin === op.issuer) {
      await page.locator('button[type="submit"]').click();
    }
    await page.waitForURL((url) => url.origin === tessera.baseURL && !url.pathname.startsWith('/api/'));
  }

  it('signs a new person in with the provider and lands on the tasks page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await throughProvider(page, 'alice');
    await page.waitForURL(`${tessera.baseURL}/tasks`);
    await page.getByRole('navigation', { name: 'Main' }).getByText(ACCOUNTS.alice.email).waitFor();
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'social-signed-in.png') });
    const cookies = await context.cookies(tessera.baseURL);
    assert.ok(cookies.some((c) => c.name === 'better-auth.session_token' && c.httpOnly));
    assert.ok(!cookies.some((c) => c.name === 'better-auth.state'), 'the state cookie is gone');
    await context.close();
  });

  it('an account that cannot be linked comes back to sign-in with a message', async () => {
    // an unverified local account already holds dave's address
    await signUpRaw(tessera.baseURL, { email: ACCOUNTS.dave.email });
    const context = await browser.newContext();
    const page = await context.newPage();
    await throughProvider(page, 'dave');
    await page.waitForURL(`${tessera.baseURL}/sign-in`);
    await page.getByText('An account with this email already exists.').waitFor();
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'social-not-linked.png') });
    const cookies = await context.cookies(tessera.baseURL);
    assert.ok(!cookies.some((c) => c.name === 'better-auth.session_token'), 'not signed in');
    await context.close();
  });

  it('links and unlinks the provider on the Account page, and keeps the last way in', async () => {
    const bob = { email: ACCOUNTS.bob.email, password: 'bob has a password too' };
    await signUpRaw(tessera.baseURL, bob);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${tessera.baseURL}/sign-in`);
    await page.getByLabel('Email', { exact: true }).fill(bob.email);
    await page.getByLabel('Password', { exact: true }).fill(bob.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${tessera.baseURL}/tasks`);
    await page.getByRole('link', { name: 'Account' }).click();
    const methods = page.getByRole('region', { name: 'Sign-in methods' });
    await methods.getByText('Password', { exact: true }).waitFor();
    await methods.getByRole('button', { name: 'Link Test OIDC' }).click();
    await atProvider(page, 'bob');
    await page.waitForURL(`${tessera.baseURL}/account`);
    const unlink = methods.getByRole('button', { name: 'Unlink Test OIDC' });
    await unlink.waitFor();
    fs.mkdirSync(SHOTS, { recursive: true });
    await methods.screenshot({ path: path.join(SHOTS, 'account-linked.png') });
    await unlink.click();
    await methods.getByText('Test OIDC is no longer linked to your account.').waitFor();
    await methods.getByRole('button', { name: 'Link Test OIDC' }).waitFor();
    await context.close();

    // alice signed up through the provider (first test): it is her only way in
    const other = await browser.newContext();
    const alice = await other.newPage();
    await throughProvider(alice, 'alice');
    await alice.waitForURL(`${tessera.baseURL}/tasks`);
    await alice.getByRole('link', { name: 'Account' }).click();
    const hers = alice.getByRole('region', { name: 'Sign-in methods' });
    await hers.getByRole('button', { name: 'Unlink Test OIDC' }).click();
    await hers.getByRole('alert').getByText('This is your only way to sign in').waitFor();
    await hers.screenshot({ path: path.join(SHOTS, 'account-last-way-in.png') });
    await alice.reload();
    await hers.getByRole('button', { name: 'Unlink Test OIDC' }).waitFor();
    await other.close();
  });
});
