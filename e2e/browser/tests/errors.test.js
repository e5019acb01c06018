// What people see when something goes wrong: each API error becomes a plain-language
// message next to the field it is about (or above the form), announced to screen readers.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { launchBrowser, openPage, screenshot, uniqueUser } from '../lib/browser.js';
import { createUser, startTessera } from '../lib/server.js';

let server;
let browser;
let existing;

before(async () => {
  server = await startTessera();
  browser = await launchBrowser();
  existing = uniqueUser('casey');
  await createUser(server.baseUrl, existing);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The error text under a field, and whether the field is marked invalid. */
async function fieldError(page, label) {
  const input = page.getByLabel(label, { exact: true });
  const id = await input.getAttribute('id');
  const text = (await page.locator(`#${id}-error`).textContent()).trim();
  return { text, invalid: (await input.getAttribute('aria-invalid')) === 'true' };
}

async function fillSignIn(page, email, password) {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('a wrong password is explained under the password field, which gets focus', { timeout: 30_000 }, async () => {
  const page = await openPage(browser, server.baseUrl);
  await page.goto('/sign-in');
  await fillSignIn(page, existing.email, 'not the password');
  await page.locator('#password-error', { hasText: 'don’t match' }).waitFor();
  assert.deepEqual(await fieldError(page, 'Password'), {
    text: 'That email and password don’t match. Check them and try again.',
    invalid: true,
  });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
  assert.equal(await page.locator('#password-error').getAttribute('aria-live'), 'polite');
  assert.match(await page.getByLabel('Password', { exact: true }).getAttribute('aria-describedby'), /password-error/);
  assert.ok(page.url().endsWith('/sign-in'));
  await screenshot(page, '07-error-wrong-password');

  // An unknown email gets exactly the same answer (no account enumeration).
  await fillSignIn(page, `nobody.${Date.now()}@example.com`, 'whatever123');
  await page.locator('#password-error', { hasText: 'don’t match' }).waitFor();
  await page.context().close();
});

test('signing up with a taken email offers to sign in instead, with the email kept', { timeout: 30_000 }, async () => {
  const page = await openPage(browser, server.baseUrl);
  await page.goto('/sign-up');
  await page.getByLabel('Name', { exact: true }).fill('Someone Else');
  await page.getByLabel('Email', { exact: true }).fill(existing.email);
  await page.getByLabel('Password', { exact: true }).fill('another password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#email-error', { hasText: 'already exists' }).waitFor();
  assert.deepEqual(await fieldError(page, 'Email'), {
    text: 'An account with this email already exists. Sign in instead?',
    invalid: true,
  });
  await screenshot(page, '08-error-email-taken');
  await page.getByRole('link', { name: 'Sign in instead?' }).click();
  await page.waitForURL('**/sign-in');
  assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), existing.email);
  await page.context().close();
});

test('sign-up checks the form before sending it', { timeout: 30_000 }, async () => {
  const page = await openPage(browser, server.baseUrl);
  let posted = 0;
  page.on('request', (r) => {
    if (r.method() === 'POST') posted += 1;
  });
  await page.goto('/sign-up');
  await page.getByRole('button', { name: 'Create account' }).click();
  assert.equal((await fieldError(page, 'Name')).text, 'Enter your name.');
  assert.equal((await fieldError(page, 'Email')).text, 'Enter your email address.');
  assert.equal((await fieldError(page, 'Password')).text, 'Enter your password.');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'name');

  await page.getByLabel('Name', { exact: true }).fill('Robin');
  await page.getByLabel('Email', { exact: true }).fill('robin@invalid');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  assert.equal((await fieldError(page, 'Email')).text, 'Enter a valid email address, like name@example.com.');
  assert.equal((await fieldError(page, 'Password')).text, 'Use at least 8 characters.');
  assert.equal((await fieldError(page, 'Name')).invalid, false);
  assert.equal(posted, 0);
  await screenshot(page, '09-error-sign-up-form');
  await page.context().close();
});

test('server-side validation codes land on the right field', { timeout: 30_000 }, async () => {
  const page = await openPage(browser, server.baseUrl);
  // An address the browser-side check lets through but the server refuses.
  await page.goto('/sign-up');
  await page.getByLabel('Name', { exact: true }).fill('Robin');
  await page.getByLabel('Email', { exact: true }).fill('robin@exa mple.com');
  await page.getByLabel('Password', { exact: true }).fill('long enough password');
  await page.route('**/api/auth/sign-up/email', (route) =>
    route.fulfill({
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ message: 'Password too short', code: 'PASSWORD_TOO_SHORT' }),
    }),
  );
  await page.getByRole('button', { name: 'Create account' }).click();
  // The client check catches the space first.
  assert.equal((await fieldError(page, 'Email')).text, 'Enter a valid email address, like name@example.com.');
  await page.getByLabel('Email', { exact: true }).fill('robin@example.com');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#password-error', { hasText: '8 characters' }).waitFor();
  await page.unroute('**/api/auth/sign-up/email');

  await page.route('**/api/auth/sign-up/email', (route) =>
    route.fulfill({
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ message: '[body.email] Invalid email address', code: 'VALIDATION_ERROR' }),
    }),
  );
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#email-error', { hasText: 'valid email' }).waitFor();
  assert.equal((await fieldError(page, 'Password')).text, '');
  await page.context().close();
});

test('rate limiting, an unavailable server and a lost connection get their own messages', { timeout: 30_000 }, async () => {
  const page = await openPage(browser, server.baseUrl);
  await page.goto('/sign-in');
  const alert = page.getByRole('alert').filter({ hasText: /\S/ });

  await page.route('**/api/auth/sign-in/email', (route) =>
    route.fulfill({
      status: 429,
      headers: { 'Retry-After': '30' },
      contentType: 'application/json',
      body: JSON.stringify({ message: 'Too many requests. Please try again later.' }),
    }),
  );
  await fillSignIn(page, existing.email, existing.password);
  await alert.filter({ hasText: 'Too many attempts' }).waitFor();
  assert.match(await alert.textContent(), /^Too many attempts, try again in (30|29) seconds\.$/);
  assert.equal(await page.getByRole('button', { name: 'Sign in' }).isDisabled(), true);
  await screenshot(page, '10-error-rate-limited');
  await page.unroute('**/api/auth/sign-in/email');

  // Better Auth's own header name works too.
  await page.reload();
  await page.route('**/api/auth/sign-in/email', (route) =>
    route.fulfill({ status: 429, headers: { 'X-Retry-After': '7' }, body: '{"message":"Too many requests."}' }),
  );
  await fillSignIn(page, existing.email, existing.password);
  await alert.filter({ hasText: 'try again in 7 seconds' }).waitFor();
  await page.unroute('**/api/auth/sign-in/email');

  await page.reload();
  await page.route('**/api/auth/sign-in/email', (route) =>
    route.fulfill({
      status: 503,
      headers: { 'Retry-After': '1' },
      contentType: 'application/json',
      body: JSON.stringify({ message: 'unavailable', code: 'SERVICE_UNAVAILABLE' }),
    }),
  );
  await fillSignIn(page, existing.email, existing.password);
  await alert.filter({ hasText: 'Tessera is temporarily unavailable. Please try again in a moment.' }).waitFor();
  await page.unroute('**/api/auth/sign-in/email');

  await page.route('**/api/auth/sign-in/email', (route) => route.abort('internetdisconnected'));
  await fillSignIn(page, existing.email, existing.password);
  await alert.filter({ hasText: 'Can’t reach Tessera. Check your connection and try again.' }).waitFor();
  await page.unroute('**/api/auth/sign-in/email');

  // And once the server answers again, signing in works from the same form.
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/tasks');
  await page.context().close();
});

test('a task list that cannot load says so and offers to try again', { timeout: 30_000 }, async () => {
  const page = await openPage(browser, server.baseUrl);
  await page.goto('/sign-in');
  await fillSignIn(page, existing.email, existing.password);
  await page.waitForURL('**/tasks');
  await page.route('**/api/*/tasks?*', (route) => route.fulfill({ status: 500, body: '' }));
  await page.reload();
  await page.getByText('Something went wrong on our side. Please try again.').waitFor();
  await screenshot(page, '11-error-tasks-unavailable');
  await page.unroute('**/api/*/tasks?*');
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.getByText('No tasks yet — add your first one').waitFor();

  // An empty title is refused before anything is sent; the server's own limit is explained.
  await page.getByRole('button', { name: 'Add task' }).click();
  await page.locator('#new-task-title-error', { hasText: 'Give the task a title.' }).waitFor();
  await page.locator('#new-task-title').fill('x'.repeat(10));
  await page.route('**/api/*/tasks', (route) =>
    route.fulfill({
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ message: '[body.title] title must be at most 200 characters', code: 'VALIDATION_ERROR' }),
    }),
  );
  await page.getByRole('button', { name: 'Add task' }).click();
  await page.locator('#new-task-title-error', { hasText: '200 characters or fewer' }).waitFor();
  await page.context().close();
});
