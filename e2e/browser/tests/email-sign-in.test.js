// Sign-in by email in the web UI: "Email me a link" (the link opens the auth server's
// confirmation page; only its button signs in) and "Email me a code" (typed on the code
// page). Tessera delivers to a real SMTP server started here; each test reads the message
// as received. Screenshots of each page.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, openPage, screenshot, uniqueUser } from '../lib/browser.js';
import { linkTo, startWithMail } from '../lib/mail.js';
import { createUser } from '../lib/server.js';
import { enrolTotp } from '../lib/two-factor.js';
import { tasksLoaded } from '../lib/ui.js';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

function problems(...pages) {
  return pages.flatMap((p) => p.problems).filter((m) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(m));
}

/** From the sign-in page to the sign-in-by-email page, with the address filled in. */
async function openEmailSignIn(page, email) {
  await page.goto('/sign-in');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('link', { name: 'Email me a sign-in link or code' }).click();
  await page.waitForURL('**/sign-in/email');
  await page.getByRole('heading', { name: 'Sign in with your email', level: 1 }).waitFor();
  assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), email, 'the address carries over');
}

describe('sign-in by email, with mail delivered to an SMTP server', () => {
  let env;

  before(async () => {
    env = await startWithMail();
  });

  after(async () => {
    await env?.stop();
  });

  test('“Email me a link”: the link shows a confirmation page, and its button signs in', { timeout: 90_000 }, async () => {
    const { server, sink } = env;
    const me = uniqueUser('linda');
    await createUser(server.baseUrl, me);
    const page = await openPage(browser, server.baseUrl);
    await openEmailSignIn(page, me.email);
    await screenshot(page, '60-email-sign-in');

    const arrives = sink.next(me.email, { linkTo: '/api/auth/magic-link/verify' });
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await page.getByRole('heading', { name: 'Check your inbox', level: 1 }).waitFor();
    await page.getByText(me.email).waitFor();
    const mail = await arrives;
    const link = linkTo(mail, '/api/auth/magic-link/verify');
    assert.equal(new URL(link).origin, server.baseUrl, 'the link is built from the base URL');
    assert.equal(new URL(link).searchParams.get('callbackURL'), '/tasks');

    // Opening the link signs nobody in: it shows who is about to sign in, and a button.
    const landing = await openPage(browser, server.baseUrl);
    const res = await landing.goto(link);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['referrer-policy'], 'no-referrer');
    await landing.getByRole('heading', { name: 'Sign in to Tessera', level: 1 }).waitFor();
    await landing.getByText(me.email).waitFor();
    assert.equal((await landing.context().cookies()).filter((c) => c.name.includes('session_token')).length, 0);
    await screenshot(landing, '61-magic-link-confirm');
    await landing.getByRole('button', { name: 'Sign in' }).click();
    await landing.waitForURL('**/tasks');
    await tasksLoaded(landing);

    // The same link again: back on the sign-in-by-email page, saying so.
    const again = await openPage(browser, server.baseUrl);
    await again.goto(link);
    await again.waitForURL('**/sign-in/email');
    await again.getByText('That sign-in link has expired or was already used.').waitFor();
    assert.deepEqual(problems(page, landing, again), []);
    await Promise.all([page, landing, again].map((p) => p.context().close()));
  });

  test('“Email me a code”: the code typed on the code page signs in', { timeout: 90_000 }, async () => {
    const { server, sink } = env;
    const me = uniqueUser('cody');
    await createUser(server.baseUrl, me);
    const page = await openPage(browser, server.baseUrl);
    await openEmailSignIn(page, me.email);

    const arrives = sink.next(me.email, { match: (m) => /sign-in code/.test(m.subject) });
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await page.getByRole('heading', { name: 'Enter your code', level: 1 }).waitFor();
    const mail = await arrives;
    const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
    assert.ok(code, `a 6-digit code in «${mail.text}»`);

    await page.getByLabel('Code', { exact: true }).fill(code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That code isn’t right').waitFor();
    await screenshot(page, '62-email-code');
    await page.getByLabel('Code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/tasks');
    await tasksLoaded(page);
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });

  test('two-step verification: “Email me a code instead” finishes a password sign-in', { timeout: 90_000 }, async () => {
    const { server, sink } = env;
    const me = uniqueUser('otto');
    await createUser(server.baseUrl, me);
    await enrolTotp(server.baseUrl, me);
    const page = await openPage(browser, server.baseUrl);
    await page.goto('/sign-in');
    await page.getByLabel('Email', { exact: true }).fill(me.email);
    await page.getByLabel('Password', { exact: true }).fill(me.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/two-factor');
    const arrives = sink.next(me.email, { match: (m) => /security code/.test(m.subject) });
    await page.getByRole('button', { name: 'Email me a code instead' }).click();
    await page.getByLabel('Code from your email').waitFor();
    const code = /\b(\d{6})\b/.exec((await arrives).text)?.[1];
    assert.ok(code, 'a 6-digit code');
    await screenshot(page, '63-two-factor-email-code');
    await page.getByLabel('Code from your email').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/tasks');
    await tasksLoaded(page);
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });
});
