// Two people in two browsers: each sees only their own tasks, and the API refuses one
// person's token on the other's task routes.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { launchBrowser, openPage, uniqueUser } from '../lib/browser.js';
import { startTessera } from '../lib/server.js';
import { addTask, signUp, taskTitles } from '../lib/ui.js';

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

test('two users never see each other’s tasks', { timeout: 60_000 }, async () => {
  const alice = await openPage(browser, server.baseUrl);
  const bob = await openPage(browser, server.baseUrl);
  await signUp(alice, uniqueUser('alice'));
  await signUp(bob, uniqueUser('bob'));

  await addTask(alice, 'Alice: plan the offsite');
  await addTask(bob, 'Bob: fix the bike');
  await addTask(alice, 'Alice: review budget');

  await alice.reload();
  await bob.reload();
  assert.deepEqual(await taskTitles(alice), ['Alice: plan the offsite', 'Alice: review budget']);
  assert.deepEqual(await taskTitles(bob), ['Bob: fix the bike']);

  // Bob's browser, with Bob's session, asking for Alice's tasks directly: refused.
  const aliceId = await alice.evaluate(async () => (await (await fetch('/api/auth/get-session')).json()).user.id);
  const status = await bob.evaluate(async (otherId) => {
    const { token } = await (await fetch('/api/auth/token')).json();
    const res = await fetch(`/api/${otherId}/tasks`, { headers: { Authorization: `Bearer ${token}` } });
    return res.status;
  }, aliceId);
  assert.equal(status, 403);

  await alice.context().close();
  await bob.context().close();
});
