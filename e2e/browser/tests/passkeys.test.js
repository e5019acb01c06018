// Passkeys in the web UI with Chromium's virtual authenticator (DevTools protocol
// `WebAuthn.*`): sign up, add a passkey on the Account page, sign out, and sign in with the
// passkey — the button and the email field's autofill (conditional UI) — without typing a
// password; an authenticator that does not verify the user leads a two-factor account to the
// second step (the authenticator's UV flag turned off with DevTools' response override
// bits). Served from http://localhost:<port>: a relying-party id is a domain, never an
// IP address.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { virtualAuthenticator } from '../lib/authenticator.js';
import { launchBrowser, openPage, screenshot, uniqueUser } from '../lib/browser.js';
import { createUser, startTessera } from '../lib/server.js';
import { enrolTotp } from '../lib/two-factor.js';
import { signOut, signUp, tasksLoaded } from '../lib/ui.js';

let server;
let browser;

before(async () => {
  server = await startTessera({ host: 'localhost' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function addPasskey(page, name) {
  await page.getByRole('link', { name: 'Account' }).click();
  await page.waitForURL('**/account');
  const section = page.locator('#account-passkeys');
  await section.getByText('No passkeys yet.').waitFor();
  await section.getByLabel('Name (optional)').fill(name);
  await section.getByRole('button', { name: 'Add a passkey' }).click();
  await section.locator('.passkey-name', { hasText: name }).waitFor();
}

test('sign up, add a passkey, sign out, sign in with it: no password typed', { timeout: 90_000 }, async () => {
  const user = uniqueUser('pk');
  const page = await openPage(browser, server.baseUrl);
  // A browser without autofill for passkeys (conditional mediation): the button is the way
  // in. (With it, the sign-in page would sign in on arrival: the next test.)
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  const { cdp, authenticatorId } = await virtualAuthenticator(page);
  await signUp(page, user);
  await addPasskey(page, 'Laptop');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true);
  assert.equal(credentials[0].rpId, 'localhost');
  await screenshot(page, 'account-passkeys');

  await signOut(page);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await page.waitForURL('**/tasks');
  await tasksLoaded(page);
  assert.equal(await page.getByLabel('Password', { exact: true }).count(), 0);

  // rename, then delete it; the authenticator's credential no longer signs in
  await page.getByRole('link', { name: 'Account' }).click();
  const section = page.locator('#account-passkeys');
  page.once('dialog', (d) => d.accept('Work laptop'));
  await section.getByRole('button', { name: 'Rename' }).click();
  await section.locator('.passkey-name', { hasText: 'Work laptop' }).waitFor();
  page.once('dialog', (d) => d.accept());
  await section.getByRole('button', { name: 'Delete' }).click();
  await section.getByText('No passkeys yet.').waitFor();
  await signOut(page);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await page.getByText('That passkey isn’t recognised here.', { exact: false }).waitFor();
  assert.deepEqual(page.problems.filter((p) => !p.includes('401')), []);
});

test('the email field offers the passkey (conditional UI)', { timeout: 90_000 }, async () => {
  const user = uniqueUser('pkc');
  const page = await openPage(browser, server.baseUrl);
  await virtualAuthenticator(page);
  await signUp(page, user);
  await addPasskey(page, 'Phone');
  await signOut(page);
  const email = page.getByLabel('Email', { exact: true });
  assert.equal(await email.getAttribute('autocomplete'), 'username webauthn');
  // With automatic presence simulation the pending conditional request completes as soon as
  // the authenticator is asked: the page signs in without any click.
  await page.reload();
  await page.waitForURL('**/tasks', { timeout: 20_000 });
  await tasksLoaded(page);
});

test('user verification on and off: only a verified passkey stands in for the second step', { timeout: 90_000 }, async () => {
  const user = uniqueUser('pkuv');
  await createUser(server.baseUrl, user);
  const { backupCodes } = await enrolTotp(server.baseUrl, user);
  const page = await openPage(browser, server.baseUrl);
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  const { authenticatorId, cdp } = await virtualAuthenticator(page);
  const secondStep = async (code) => {
    await page.waitForURL('**/two-factor');
    await page.getByRole('button', { name: 'Use a backup code instead' }).click();
    await page.getByLabel('Backup code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/tasks');
  };
  await page.goto('/sign-in');
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await secondStep(backupCodes[0]);
  await addPasskey(page, 'Laptop');
  await signOut(page);

  // UV on: the passkey is two factors (something held, someone verified): straight in
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await page.waitForURL('**/tasks');
  await signOut(page);

  // UV off (the authenticator's answer says the user was not verified): the passkey is one
  // factor, and the second step is still asked
  await cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId, isBadUV: true });
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await page.getByRole('heading', { name: 'Two-step verification', level: 1 }).waitFor();
  await screenshot(page, 'passkey-without-uv-second-step');
  await secondStep(backupCodes[1]);
  await tasksLoaded(page);
});
