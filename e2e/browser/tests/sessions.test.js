// The sessions page: one person signed in from two browsers sees both sessions, revokes
// the other one, and that browser is signed out on its next action.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { launchBrowser, openPage, PHONE, PHONE_UA, screenshot, uniqueUser } from '../lib/browser.js';
import { startTessera } from '../lib/server.js';
import { addTask, signIn, signUp, tasksLoaded } from '../lib/ui.js';

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

async function openSessions(page) {
  await page.getByRole('link', { name: 'Sessions' }).click();
  await page.waitForURL('**/sessions');
  await page.locator('.list-body[aria-busy="false"]').waitFor();
}

test('revoking the other session signs that browser out on its next action', { timeout: 60_000 }, async () => {
  const me = uniqueUser('sam');
  const laptop = await openPage(browser, server.baseUrl);
  const phone = await openPage(browser, server.baseUrl, { viewport: PHONE, userAgent: PHONE_UA });
  await signUp(laptop, me);
  await signIn(phone, me);
  await tasksLoaded(phone);
  await addTask(phone, 'Buy groceries');

  // The laptop sees both sessions, its own marked.
  await openSessions(laptop);
  const rows = laptop.locator('li.session');
  assert.equal(await rows.count(), 2);
  assert.equal(await laptop.locator('li.session.is-current').count(), 1);
  await laptop.locator('li.session.is-current').getByText('This device').waitFor();
  assert.equal(await laptop.locator('li.session.is-current').getByRole('button').count(), 0);
  await laptop.getByText('Safari on iOS').waitFor();
  await screenshot(laptop, '12-sessions');
  await openSessions(phone);
  await phone.locator('li.session.is-current').getByText('Safari on iOS').waitFor();
  await screenshot(phone, '14-sessions-phone');
  await phone.getByRole('link', { name: 'Tasks' }).click();
  await tasksLoaded(phone);

  // Revoke the other one.
  await laptop.locator('li.session:not(.is-current)').getByRole('button', { name: /^Revoke/ }).click();
  await laptop.getByText('This is your only active session.').waitFor();
  assert.equal(await rows.count(), 1);
  await screenshot(laptop, '13-sessions-after-revoke');

  // The phone's next action fails quietly into the sign-in page, with a reason.
  await phone.locator('#new-task-title').fill('Call mum');
  await phone.getByRole('button', { name: 'Add task' }).click();
  await phone.waitForURL('**/sign-in');
  await phone.getByText('Your session has ended. Sign in again to continue.').waitFor();
  await phone.goto('/tasks');
  await phone.waitForURL('**/sign-in');

  // The laptop carries on.
  await laptop.getByRole('link', { name: 'Tasks' }).click();
  await laptop.getByText('Buy groceries').waitFor();
  assert.equal(await laptop.getByText('Call mum').count(), 0);

  await laptop.context().close();
  await phone.context().close();
});

test('“Sign out other sessions” ends every session but this one', { timeout: 60_000 }, async () => {
  const me = uniqueUser('kim');
  const pages = [];
  for (let i = 0; i < 3; i += 1) {
    const page = await openPage(browser, server.baseUrl);
    await (i === 0 ? signUp(page, me) : signIn(page, me));
    pages.push(page);
  }
  const [here, ...others] = pages;
  await openSessions(here);
  assert.equal(await here.locator('li.session').count(), 3);
  await here.getByRole('button', { name: 'Sign out other sessions' }).click();
  await here.getByText('This is your only active session.').waitFor();
  assert.equal(await here.getByRole('button', { name: 'Sign out other sessions' }).isVisible(), false);

  for (const page of others) {
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.waitForURL('**/sign-in');
  }
  for (const page of pages) await page.context().close();
});
