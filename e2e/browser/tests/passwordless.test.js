// From sign-up to daily use without ever typing a password (issue #17's "done when"), in
// Chromium, on SQLite and on PostgreSQL: sign up on "Sign up without a password" with a name
// and an address, open the emailed link (its page creates the account only when its button is
// pressed), add a passkey on the Account page with Chromium's virtual authenticator, sign
// out, and sign in with the passkey. The same with an emailed code instead of the link, then
// two-step verification started without a password to give. Mail
// goes to a real SMTP server started here; PostgreSQL is the suites' server
// ($TESSERA_TEST_POSTGRES_URL), each run on a database of its own.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { virtualAuthenticator } from '../lib/authenticator.js';
import { launchBrowser, openPage, screenshot, uniqueUser } from '../lib/browser.js';
import { linkTo, startWithMail } from '../lib/mail.js';
import { signOut, tasksLoaded } from '../lib/ui.js';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** From the sign-up page to "Sign up without a password", filled in. */
async function openEmailSignUp(page, me) {
  await page.goto('/sign-up');
  await page.getByRole('link', { name: 'Sign up without a password' }).click();
  await page.waitForURL('**/sign-up/email');
  await page.getByRole('heading', { name: 'Create your account', level: 1 }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill(me.name);
  await page.getByLabel('Email', { exact: true }).fill(me.email);
}

/** Adds a passkey on the Account page, then signs out and back in with it. */
async function passkeyFromNowOn(page, cdp, authenticatorId) {
  await page.getByRole('link', { name: 'Account' }).click();
  await page.waitForURL('**/account');
  const section = page.locator('#account-passkeys');
  await section.getByText('No passkeys yet.').waitFor();
  await section.getByLabel('Name (optional)').fill('This laptop');
  await section.getByRole('button', { name: 'Add a passkey' }).click();
  await section.locator('.passkey-name', { hasText: 'This laptop' }).waitFor();
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);

  await signOut(page);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await page.waitForURL('**/tasks');
  await tasksLoaded(page);
}

/** The password sign-in of `email` with any password: never 200 (the account has none). */
async function passwordSignInStatus(baseUrl, email) {
  const res = await fetch(`${baseUrl}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ email, password: 'any password at all' }),
  });
  return res.status;
}

for (const backend of ['sqlite', 'postgres']) {
  describe(`passwordless from sign-up on (${backend})`, () => {
    let env;

    before(async () => {
      env = await startWithMail({ host: 'localhost', postgres: backend === 'postgres' });
    });

    after(async () => {
      await env?.stop();
    });

    test('sign up by emailed link, add a passkey, sign out, sign in with it', { timeout: 120_000 }, async () => {
      const { server, sink } = env;
      const me = uniqueUser(`pl-${backend}`);
      const page = await openPage(browser, server.baseUrl);
      // The button is the way in here, not autofill (the passkeys suite covers autofill).
      await page.addInitScript(() => {
        PublicKeyCredential.isConditionalMediationAvailable = async () => false;
      });
      const { cdp, authenticatorId } = await virtualAuthenticator(page);
      await openEmailSignUp(page, me);
      assert.equal(await page.getByLabel('Password', { exact: true }).count(), 0, 'no password field');
      await screenshot(page, `70-email-sign-up-${backend}`);

      const arrives = sink.next(me.email, { linkTo: '/api/auth/magic-link/verify' });
      await page.getByRole('button', { name: 'Email me a link' }).click();
      await page.getByRole('heading', { name: 'Check your inbox', level: 1 }).waitFor();
      const link = linkTo(await arrives, '/api/auth/magic-link/verify');
      assert.equal(new URL(link).searchParams.get('newUserCallbackURL'), '/account');

      // The link's page says an account will be made; pressing its button makes it.
      const res = await page.goto(link);
      assert.equal(res.status(), 200);
      await page.getByRole('heading', { name: 'Create your Tessera account', level: 1 }).waitFor();
      await screenshot(page, `71-magic-link-sign-up-${backend}`);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL('**/account');
      await page.getByText(me.email).first().waitFor();
      await page.locator('#no-password').waitFor();

      await passkeyFromNowOn(page, cdp, authenticatorId);
      await page.getByText(me.name).first().waitFor();
      assert.equal(await passwordSignInStatus(server.baseUrl, me.email), 401, 'the account has no password');
      await screenshot(page, `72-passkey-signed-in-${backend}`);
      assert.deepEqual(page.problems.filter((p) => !/status of 4\d\d/.test(p)), []);
      await page.context().close();
    });

    test('sign up by emailed code, add a passkey, sign out, sign in with it', { timeout: 120_000 }, async () => {
      const { server, sink } = env;
      const me = uniqueUser(`pc-${backend}`);
      const page = await openPage(browser, server.baseUrl);
      await page.addInitScript(() => {
        PublicKeyCredential.isConditionalMediationAvailable = async () => false;
      });
      const { cdp, authenticatorId } = await virtualAuthenticator(page);
      await openEmailSignUp(page, me);

      const arrives = sink.next(me.email, { match: (m) => /sign-in code/.test(m.subject) });
      await page.getByRole('button', { name: 'Email me a code' }).click();
      await page.getByRole('heading', { name: 'Enter your code', level: 1 }).waitFor();
      const code = /\b(\d{6})\b/.exec((await arrives).text)?.[1];
      assert.ok(code, 'a 6-digit code');
      await page.getByLabel('Code', { exact: true }).fill(code);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL('**/tasks');
      await tasksLoaded(page);

      await passkeyFromNowOn(page, cdp, authenticatorId);
      assert.equal(await passwordSignInStatus(server.baseUrl, me.email), 401, 'the account has no password');

      // Two-step verification asks for no password here: the fresh sign-in is the proof.
      await page.getByRole('link', { name: 'Account' }).click();
      const twoStep = page.locator('#account-two-factor');
      await twoStep.getByText('Sign-in asks only for your email link, code or passkey.').waitFor();
      assert.equal(await twoStep.getByLabel('Your password').count(), 0);
      await twoStep.getByRole('button', { name: 'Turn on two-step verification' }).click();
      await twoStep.locator('img.qr').waitFor();
      assert.deepEqual(page.problems.filter((p) => !/status of 4\d\d/.test(p)), []);
      await page.context().close();
    });
  });
}
