// The whole journey of one person: sign up, add and manage tasks, reload, sign out, and
// be sent to sign-in when opening the tasks page afterwards. Screenshots of each page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { launchBrowser, openPage, PHONE, screenshot, uniqueUser } from '../lib/browser.js';
import { startTessera } from '../lib/server.js';
import { addTask, assertNoVisibleError, signOut, taskItem, taskTitles, tasksLoaded } from '../lib/ui.js';

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

test('sign up, manage tasks, reload, sign out: the tasks page then sends you to sign-in', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, server.baseUrl);
  const me = uniqueUser('jordan');

  // A visitor lands on sign-in.
  await page.goto('/');
  await page.waitForURL('**/sign-in');
  await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
  assert.equal(await page.title(), 'Sign in · Tessera');
  await screenshot(page, '01-sign-in');

  // …follows the link to create an account.
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.waitForURL('**/sign-up');
  await page.getByLabel('Name', { exact: true }).fill(me.name);
  await page.getByLabel('Email', { exact: true }).fill(me.email);
  await page.getByLabel('Password', { exact: true }).fill(me.password);
  await screenshot(page, '02-sign-up');
  await page.getByRole('button', { name: 'Create account' }).click();

  // Signed in: an empty task list that says what to do.
  await page.waitForURL('**/tasks');
  await tasksLoaded(page);
  await page.getByText('No tasks yet — add your first one').waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByText(me.email).waitFor();
  await screenshot(page, '03-tasks-empty');

  // Add, complete, edit and delete.
  await addTask(page, 'Write the quarterly report', 'Numbers from finance, charts from the dashboard.');
  await addTask(page, 'Book flights to Lisbon');
  await addTask(page, 'Renew passport');
  await addTask(page, 'Call the plumber');
  assert.deepEqual(await taskTitles(page), [
    'Write the quarterly report',
    'Book flights to Lisbon',
    'Renew passport',
    'Call the plumber',
  ]);

  await taskItem(page, 'Book flights to Lisbon').getByRole('checkbox').check();
  await page.locator('li.task.is-done', { hasText: 'Book flights to Lisbon' }).waitFor();
  await page.getByText('1 done').waitFor();

  await page.getByRole('button', { name: 'Edit “Renew passport”' }).click();
  const edit = page.getByRole('form', { name: 'Edit “Renew passport”' });
  await edit.getByLabel('Title', { exact: true }).fill('Renew passport before June');
  await edit.getByRole('button', { name: 'Save' }).click();
  await taskItem(page, 'Renew passport before June').waitFor();

  await page.getByRole('button', { name: 'Delete “Call the plumber”' }).click();
  await taskItem(page, 'Call the plumber').waitFor({ state: 'detached' });
  await assertNoVisibleError(page);
  await page.locator('.toast').last().waitFor({ state: 'detached' });
  await screenshot(page, '04-tasks-with-items');

  // A reload keeps the session (HttpOnly cookie) and the tasks.
  await page.reload();
  await page.waitForURL('**/tasks');
  assert.deepEqual(await taskTitles(page), [
    'Write the quarterly report',
    'Book flights to Lisbon',
    'Renew passport before June',
  ]);
  assert.equal(await taskItem(page, 'Book flights to Lisbon').getByRole('checkbox').isChecked(), true);

  // The same page on a phone.
  await page.setViewportSize(PHONE);
  await screenshot(page, '05-tasks-phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, '15-tasks-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // Sign out; the tasks page now sends you to sign-in.
  await signOut(page);
  await page.getByText('You’ve signed out.').waitFor();
  await page.goto('/tasks');
  await page.waitForURL('**/sign-in');
  await page.getByRole('heading', { name: 'Welcome back' }).waitFor();

  // Nothing the page stored outside memory holds a token.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
  assert.equal(stored, '{}{}');
  assert.deepEqual(page.problems.filter((p) => !p.includes('401')), []);
  await page.context().close();
});

test('sign-in and sign-up read well on a phone', { timeout: 30_000 }, async () => {
  const page = await openPage(browser, server.baseUrl, { viewport: PHONE });
  await page.goto('/sign-in');
  await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
  await screenshot(page, '06-sign-in-phone');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `page is ${width}px wide: it scrolls sideways`);
  await page.context().close();
});
