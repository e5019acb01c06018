// Keyboard only: reach the sign-in fields with Tab, submit with Enter, then add and
// complete a task without a mouse. Focus is always visible.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { launchBrowser, openPage, uniqueUser } from '../lib/browser.js';
import { createUser, startTessera } from '../lib/server.js';
import { tasksLoaded, taskItem } from '../lib/ui.js';

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

const focused = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    const style = el ? getComputedStyle(el) : null;
    return {
      id: el?.id ?? '',
      tag: el?.tagName ?? '',
      text: el?.textContent?.trim() ?? '',
      ring: style ? style.outlineStyle !== 'none' || style.boxShadow !== 'none' : false,
    };
  });

/** Presses Tab until `match(focused)` holds; at most `limit` presses. */
async function tabTo(page, match, limit = 12) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (match(f)) return f;
  }
  throw new Error(`not reached with ${limit} presses of Tab`);
}

test('sign in with the keyboard alone, then add and complete a task', { timeout: 60_000 }, async () => {
  const me = uniqueUser('lee');
  await createUser(server.baseUrl, me);
  const page = await openPage(browser, server.baseUrl);
  await page.goto('/sign-in');
  await page.getByRole('heading', { name: 'Welcome back' }).waitFor();

  // The first Tab shows the skip link.
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).text, 'Skip to content');

  const email = await tabTo(page, (f) => f.id === 'email');
  assert.ok(email.ring, 'the email field shows where focus is');
  await page.keyboard.type(me.email);
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).id, 'password');
  await page.keyboard.type(me.password);

  // The show-password toggle and the submit button are real buttons with visible focus.
  await page.keyboard.press('Tab');
  const toggle = await focused(page);
  assert.equal(toggle.tag, 'BUTTON');
  assert.ok(toggle.ring);
  await page.keyboard.press('Tab');
  const submit = await focused(page);
  assert.deepEqual([submit.tag, submit.text, submit.ring], ['BUTTON', 'Sign in', true]);

  // Back to the password field and submit with Enter.
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  assert.equal((await focused(page)).id, 'password');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/tasks');
  await tasksLoaded(page);

  // Add a task: Tab into the title field, type, Enter.
  await tabTo(page, (f) => f.id === 'new-task-title', 15);
  await page.keyboard.type('Water the plants');
  await page.keyboard.press('Enter');
  await taskItem(page, 'Water the plants').waitFor();
  assert.equal((await focused(page)).id, 'new-task-title', 'focus stays in the title field for the next task');

  // Complete it with Space on its checkbox.
  const check = await tabTo(page, (f) => f.id.startsWith('task-'), 10);
  assert.ok(check.ring);
  await page.keyboard.press('Space');
  await page.getByText('0 to do · 1 done').waitFor();
  assert.ok((await focused(page)).id.startsWith('task-'), 'focus stays on the checkbox');

  // Edit with Enter on the edit button; Escape cancels and returns focus.
  await page.keyboard.press('Tab');
  const edit = await focused(page);
  assert.equal(edit.tag, 'BUTTON');
  await page.keyboard.press('Enter');
  assert.match((await focused(page)).id, /^edit-title-/);
  await page.keyboard.press('Escape');
  await taskItem(page, 'Water the plants').waitFor();
  assert.equal((await focused(page)).tag, 'BUTTON');
  await page.context().close();
});
