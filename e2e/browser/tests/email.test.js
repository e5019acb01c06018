// Email in the web UI, end to end: Tessera delivers to a real SMTP server started here
// (e2e/lib/smtp-sink.mjs); each test reads the message as received, parses it, and follows
// the link it carries in the browser. Verification and its banner, forgot password → new
// password (old sessions end), change of address through both links, and the sign-up and
// sign-in of --require-email-verification. Screenshots of every page.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, openPage, PHONE, screenshot, uniqueUser } from '../lib/browser.js';
import { linkTo, startWithMail } from '../lib/mail.js';
import { createUser, startTessera } from '../lib/server.js';
import { signIn, signUp, tasksLoaded } from '../lib/ui.js';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/**
 * Console errors and page errors, less Chromium's note on each 4xx answer (the tests
 * cause those on purpose): a CSP or Trusted Types violation, or an exception, remains.
 */
function problems(...pages) {
  return pages.flatMap((p) => p.problems).filter((m) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(m));
}

const banner = (page) => page.getByRole('region', { name: 'Verify your email address' });

/** Opens the Account page from the navigation. */
async function openAccount(page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
  await page.waitForURL('**/account');
  await page.getByRole('heading', { name: 'Account', level: 1 }).waitFor();
}

function section(page, name) {
  return page.getByRole('region', { name, exact: true });
}

describe('with mail delivered to an SMTP server', () => {
  let env;

  before(async () => {
    env = await startWithMail();
  });

  after(async () => {
    await env?.stop();
  });

  test('an unverified address shows a banner; “send the link again” mails a link that verifies it', { timeout: 90_000 }, async () => {
    const { server, sink } = env;
    const me = uniqueUser('vera');
    const page = await openPage(browser, server.baseUrl);
    await signUp(page, me);
    await tasksLoaded(page);

    // The banner is on every signed-in page while the address is unverified.
    await banner(page).waitFor();
    await banner(page).getByText(me.email).waitFor();
    await screenshot(page, '20-verify-banner');
    await page.getByRole('link', { name: 'Sessions' }).click();
    await banner(page).waitFor();

    const arrives = sink.next(me.email, { linkTo: '/api/auth/verify-email' });
    await banner(page).getByRole('button', { name: 'Send the link again' }).click();
    await banner(page).getByText(`Sent. Check your inbox at ${me.email}.`).waitFor();
    const mail = await arrives;
    assert.match(mail.subject, /verif/i);
    assert.ok(mail.html.length > 0, 'the message has an HTML part');
    const link = linkTo(mail, '/api/auth/verify-email');
    assert.equal(new URL(link).origin, server.baseUrl, 'the link is built from the base URL');
    assert.equal(new URL(link).searchParams.get('callbackURL'), '/verify-email');

    // Following the link lands on the verify page; the banner is gone everywhere.
    await page.goto(link);
    await page.waitForURL('**/verify-email');
    await page.getByRole('heading', { name: 'Your email address is verified' }).waitFor();
    assert.equal(await banner(page).count(), 0);
    await screenshot(page, '21-verify-email-done');
    await page.getByRole('link', { name: 'Continue to your tasks' }).click();
    await tasksLoaded(page);
    assert.equal(await banner(page).count(), 0);
    await openAccount(page);
    await section(page, 'Email address').getByText('Verified', { exact: true }).waitFor();
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });

  test('the verify page explains an expired or used link', { timeout: 60_000 }, async () => {
    const page = await openPage(browser, env.server.baseUrl);
    await page.goto('/verify-email?error=TOKEN_EXPIRED');
    await page.getByRole('heading', { name: 'This link has expired' }).waitFor();
    // the code does not stay in the address bar
    assert.equal(new URL(page.url()).search, '');
    await screenshot(page, '22-verify-email-expired');
    await page.goto('/verify-email?error=INVALID_TOKEN');
    await page.getByRole('heading', { name: 'This link can’t be used' }).waitFor();
    await page.goto('/verify-email?error=USER_NOT_FOUND');
    await page.getByRole('heading', { name: 'This account no longer exists' }).waitFor();
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });

  test('forgot password → mail → choose a new one: every old session ends, the new password signs in', { timeout: 120_000 }, async () => {
    const { server, sink } = env;
    const me = uniqueUser('rosa');
    await createUser(server.baseUrl, me);
    const other = await openPage(browser, server.baseUrl);
    await signIn(other, me);
    await tasksLoaded(other);

    const page = await openPage(browser, server.baseUrl);
    await page.goto('/sign-in');
    await page.getByLabel('Email', { exact: true }).fill(me.email);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL('**/forgot-password');
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), me.email, 'the address carries over');
    await screenshot(page, '23-forgot-password');

    const arrives = sink.next(me.email, { linkTo: '/api/auth/reset-password/' });
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await screenshot(page, '24-forgot-password-sent');
    const mail = await arrives;
    const link = linkTo(mail, '/api/auth/reset-password/');
    assert.equal(new URL(link).origin, server.baseUrl);
    assert.equal(new URL(link).searchParams.get('callbackURL'), `${server.baseUrl}/reset-password`);

    // The link lands on "choose a new password"; the token leaves the address bar at once
    // and the page is served with no-referrer.
    const landing = page.waitForResponse((r) => new URL(r.url()).pathname === '/reset-password');
    await page.goto(link);
    const landed = await landing;
    assert.match(landed.url(), /\/reset-password\?token=/);
    assert.equal(landed.headers()['referrer-policy'], 'no-referrer');
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    assert.equal(new URL(page.url()).search, '', 'the token is no longer in the URL');
    assert.equal(await page.evaluate(() => location.href.includes('token')), false);

    // Mismatch first, then the real thing.
    const newPassword = `${me.password} renewed`;
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Confirm new password', { exact: true }).fill(`${newPassword}x`);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('The two passwords don’t match.').waitFor();
    await screenshot(page, '25-reset-password-form');
    await page.getByLabel('Confirm new password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.waitForURL('**/sign-in');
    await page.getByText('Your password has been changed').waitFor();
    await screenshot(page, '26-reset-password-done');

    // The session that was signed in elsewhere is over.
    await other.reload();
    await other.waitForURL('**/sign-in');

    // The old password no longer works; the new one does.
    await page.getByLabel('Email', { exact: true }).fill(me.email);
    await page.getByLabel('Password', { exact: true }).fill(me.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That email and password don’t match.').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/tasks');

    // The same link again cannot be used.
    const again = await openPage(browser, server.baseUrl);
    await again.goto(link);
    await again.getByRole('heading', { name: 'This link can’t be used' }).waitFor();
    await again.getByRole('link', { name: 'Ask for a new link' }).waitFor();
    await screenshot(again, '27-reset-password-used-link');
    assert.deepEqual(problems(page, again), []);
    for (const p of [page, other, again]) await p.context().close();
  });

  test('change of address: a link to the old address, then one to the new; the account then shows the new one, verified', { timeout: 120_000 }, async () => {
    const { server, sink } = env;
    const me = uniqueUser('noor');
    const newEmail = uniqueUser('noor-new').email;
    const page = await openPage(browser, server.baseUrl);
    await signUp(page, me);

    // Verify the current address first (a verified address confirms a change with it).
    const verifyMail = sink.next(me.email, { linkTo: '/api/auth/verify-email' });
    await banner(page).getByRole('button', { name: 'Send the link again' }).click();
    await page.goto(linkTo(await verifyMail, '/api/auth/verify-email'));
    await page.getByRole('heading', { name: 'Your email address is verified' }).waitFor();

    await page.goto('/account');
    const email = section(page, 'Email address');
    await email.getByText(me.email, { exact: true }).waitFor();
    await email.getByText('Verified', { exact: true }).waitFor();

    // A wrong password is refused and said so next to the field.
    await email.getByLabel('New email address').fill(newEmail);
    await email.getByLabel('Current password').fill('not my password');
    await email.getByRole('button', { name: 'Change email' }).click();
    await email.getByText('That password isn’t right.').waitFor();

    // The change-of-address links lead back to /verify-email?change=… (views/account/email.js).
    const changeLink = {
      linkTo: '/api/auth/verify-email',
      match: (m) => m.links.some((l) => new URL(l).searchParams.get('callbackURL')?.includes('change=')),
    };
    const toOld = sink.next(me.email, changeLink);
    await email.getByLabel('Current password').fill(me.password);
    await email.getByRole('button', { name: 'Change email' }).click();
    await email.getByText('We’ve sent a link to your current address').waitFor();
    await screenshot(page, '28-account-change-email-sent');

    const confirm = await toOld;
    const toNew = sink.next(newEmail, changeLink);
    await page.goto(linkTo(confirm, '/api/auth/verify-email'));
    await page.waitForURL('**/verify-email');
    await page.getByRole('heading', { name: 'One more step' }).waitFor();
    await screenshot(page, '29-change-email-step-one');

    const verifyNew = await toNew;
    await page.goto(linkTo(verifyNew, '/api/auth/verify-email'));
    await page.getByRole('heading', { name: 'Your email address is changed' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByText(newEmail).waitFor();
    await screenshot(page, '30-change-email-done');

    await openAccount(page);
    await section(page, 'Email address').getByText(newEmail, { exact: true }).waitFor();
    await section(page, 'Email address').getByText('Verified', { exact: true }).waitFor();
    assert.equal(await banner(page).count(), 0);
    assert.deepEqual(problems(page), []);
    await page.context().close();

    // The new address signs in; the old one does not.
    const later = await openPage(browser, server.baseUrl);
    await signIn(later, { email: newEmail, password: me.password });
    await later.context().close();
  });

  test('Account: change the name and the password (signing out other sessions), by keyboard too', { timeout: 120_000 }, async () => {
    const { server } = env;
    const me = uniqueUser('ali');
    const page = await openPage(browser, server.baseUrl);
    await signUp(page, me);
    const other = await openPage(browser, server.baseUrl);
    await signIn(other, me);

    await openAccount(page);
    for (const name of ['Profile', 'Email address', 'Password']) {
      await page.getByRole('heading', { name, level: 2 }).waitFor();
    }
    await screenshot(page, '31-account');

    // Name: keyboard only, Enter saves; the navigation shows it at once and after a reload.
    const profile = section(page, 'Profile');
    await profile.getByLabel('Name', { exact: true }).focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('Ali Renamed');
    await page.keyboard.press('Enter');
    await profile.getByText('Your name is saved.').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByText('Ali Renamed').waitFor();
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).getByText('Ali Renamed').waitFor();

    // An empty name is refused in place.
    await section(page, 'Profile').getByLabel('Name', { exact: true }).fill('   ');
    await section(page, 'Profile').getByRole('button', { name: 'Save name' }).click();
    await section(page, 'Profile').getByText('Enter your name.').waitFor();

    // Password: wrong current password, then a short new one, then the change.
    const pw = section(page, 'Password');
    await pw.getByLabel('Current password').fill('wrong password here');
    await pw.getByLabel('New password').fill('a brand new password');
    await pw.getByRole('button', { name: 'Change password' }).click();
    await pw.getByText('That password isn’t right.').waitFor();
    await pw.getByLabel('Current password').fill(me.password);
    await pw.getByLabel('New password').fill('short');
    await pw.getByRole('button', { name: 'Change password' }).click();
    await pw.getByText('Use at least 8 characters.').waitFor();
    await screenshot(page, '32-account-password-errors');
    assert.equal(await pw.getByLabel('Sign out of every other session').isChecked(), true);
    await pw.getByLabel('New password').fill('a brand new password');
    await pw.getByRole('button', { name: 'Change password' }).click();
    await pw.getByText('Your password is changed, and every other session is signed out.').waitFor();

    // This browser carries on; the other one is signed out.
    await page.getByRole('link', { name: 'Tasks' }).click();
    await tasksLoaded(page);
    await other.reload();
    await other.waitForURL('**/sign-in');
    await signIn(other, { email: me.email, password: 'a brand new password' });

    // On a phone the page still reads well.
    const phone = await openPage(browser, server.baseUrl, { viewport: PHONE });
    await signIn(phone, { email: me.email, password: 'a brand new password' });
    await openAccount(phone);
    await screenshot(phone, '33-account-phone');
    assert.deepEqual(problems(page, other, phone), []);
    for (const p of [page, other, phone]) await p.context().close();
  });
});

describe('with --require-email-verification', () => {
  let env;

  before(async () => {
    env = await startWithMail({ extraArgs: ['--require-email-verification'] });
  });

  after(async () => {
    await env?.stop();
  });

  test('sign-up says “check your inbox”; signing in first re-sends the link; after the link, sign-in works', { timeout: 120_000 }, async () => {
    const { server, sink } = env;
    const me = uniqueUser('kai');
    const page = await openPage(browser, server.baseUrl);
    await page.goto('/sign-up');
    await page.getByLabel('Name', { exact: true }).fill(me.name);
    await page.getByLabel('Email', { exact: true }).fill(me.email);
    await page.getByLabel('Password', { exact: true }).fill(me.password);
    const first = sink.next(me.email, { linkTo: '/api/auth/verify-email' });
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await page.getByText(me.email).waitFor();
    await screenshot(page, '34-sign-up-check-inbox');
    const firstMail = await first;
    linkTo(firstMail, '/api/auth/verify-email');

    // No session: the tasks page sends us to sign in.
    await page.goto('/tasks');
    await page.waitForURL('**/sign-in');

    // Signing in before verifying: a clear message, and a new link.
    const second = sink.next(me.email, { linkTo: '/api/auth/verify-email' });
    await page.getByLabel('Email', { exact: true }).fill(me.email);
    await page.getByLabel('Password', { exact: true }).fill(me.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Verify your email address before you sign in.').waitFor();
    assert.match(page.url(), /\/sign-in$/);
    await screenshot(page, '35-sign-in-not-verified');
    const secondMail = await second;

    await page.goto(linkTo(secondMail, '/api/auth/verify-email'));
    await page.getByRole('heading', { name: 'Your email address is verified' }).waitFor();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL('**/sign-in');
    await signIn(page, me);
    await tasksLoaded(page);
    assert.equal(await banner(page).count(), 0);
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });
});

describe('without mail configured', () => {
  let server;

  before(async () => {
    server = await startTessera();
  });

  after(async () => {
    await server?.stop();
  });

  test('no banner nags about an address that cannot be verified; the account page says why', { timeout: 60_000 }, async () => {
    const me = uniqueUser('nomail');
    const page = await openPage(browser, server.baseUrl);
    await signUp(page, me);
    await tasksLoaded(page);
    assert.equal(await banner(page).count(), 0);
    await openAccount(page);
    await section(page, 'Email address').getByText('Not verified', { exact: true }).waitFor();
    await section(page, 'Email address').getByText('This server doesn’t send email').waitFor();
    assert.equal(await page.getByLabel('New email address').count(), 0);

    // The reset page says plainly that it cannot work here.
    await page.goto('/forgot-password');
    await page.getByLabel('Email', { exact: true }).fill(me.email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByText('passwords can’t be reset by email').waitFor();
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });
});
