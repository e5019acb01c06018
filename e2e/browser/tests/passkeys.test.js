// Passkeys in the web UI with Chromium's virtual authenticator (DevTools protocol
// `WebAuthn.*`): sign up, add a passkey on the Account page, sign out, and sign in with the
// passkey — the button and the email field's autofill (conditional UI) — without typing a
// password; an authenticator that does not verify the user leads a two-factor account to the
// second step. Served from http://localhost:<port>: a relying-party id is a domain, never an
// IP address.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { virtualAuthenticator } from '../lib/authenticator.js';
import { launchBrowser, openPage, screenshot, uniqueUser } from '../lib/browser.js';
import { startTessera } from '../lib/server.js';
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
