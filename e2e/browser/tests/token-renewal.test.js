// The access token lives only in memory and expires quickly here (--access-token-ttl
// 10s). The UI renews it before it expires, so a person who pauses longer than the TTL
// carries on without an error or a new sign-in; a token the API refuses anyway is
// renewed once and the request retried.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { launchBrowser, openPage, uniqueUser } from '../lib/browser.js';
import { startTessera } from '../lib/server.js';
import { addTask, assertNoVisibleError, claims, signUp, taskTitles } from '../lib/ui.js';

const TTL_SECONDS = 10;

let server;
let browser;

before(async () => {
  server = await startTessera({ extraArgs: ['--access-token-ttl', `${TTL_SECONDS}s`] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Records the bearer tokens sent to the tasks API and every 401 it answered. */
function watchTasksApi(page) {
  const seen = { sent: [], unauthorized: 0, tokenRequests: 0 };
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/api/auth/token') seen.tokenRequests += 1;
    if (/^\/api\/[^/]+\/tasks/.test(url.pathname) && !url.pathname.startsWith('/api/auth/')) {
      const auth = r.headers().authorization ?? '';
      seen.sent.push({ at: Date.now(), method: r.method(), jwt: auth.replace(/^Bearer /, '') });
    }
  });
  page.on('response', (r) => {
    if (/\/api\/[^/]+\/tasks/.test(r.url()) && r.status() === 401) seen.unauthorized += 1;
  });
  return seen;
}

test('a pause longer than the token lifetime needs no new sign-in and shows no error', { timeout: 60_000 }, async () => {
  const page = await openPage(browser, server.baseUrl);
  const seen = watchTasksApi(page);
  await signUp(page, uniqueUser('ari'));
  await addTask(page, 'Before the pause');
  const first = claims(seen.sent.at(-1).jwt);
  assert.equal(first.exp - first.iat, TTL_SECONDS);

  // Wait past the token's lifetime (bounded: TTL + 4 s).
  await page.waitForTimeout((TTL_SECONDS + 4) * 1000);

  await addTask(page, 'After the pause');
  await assertNoVisibleError(page);
  assert.ok(page.url().endsWith('/tasks'), 'still on the tasks page');
  assert.deepEqual(await taskTitles(page), ['Before the pause', 'After the pause']);

  // The request after the pause carried a newer token that had not expired when sent.
  const late = seen.sent.at(-1);
  const lateClaims = claims(late.jwt);
  assert.ok(lateClaims.iat > first.iat, 'the token was renewed');
  assert.ok(lateClaims.exp * 1000 > late.at, 'the token sent had not expired');
  assert.equal(lateClaims.sub, first.sub);
  assert.equal(seen.unauthorized, 0, 'renewed ahead of time, not after a refusal');
  assert.ok(seen.tokenRequests >= 1);

  // Nothing outside memory holds it.
  const stored = await page.evaluate(() => Object.keys(localStorage).length + Object.keys(sessionStorage).length);
  assert.equal(stored, 0);
  await page.context().close();
});

test('a token the API refuses is renewed once and the request retried', { timeout: 30_000 }, async () => {
  const page = await openPage(browser, server.baseUrl);
  const seen = watchTasksApi(page);
  await signUp(page, uniqueUser('bea'));
  await addTask(page, 'First');

  // The next create is answered 401 once, as if the token had been rotated away.
  let refused = 0;
  await page.route('**/api/*/tasks', (route) => {
    if (route.request().method() === 'POST' && refused === 0) {
      refused += 1;
      return route.fulfill({
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
        contentType: 'application/json',
        body: JSON.stringify({ message: 'Unauthorized', code: 'UNAUTHORIZED' }),
      });
    }
    return route.continue();
  });
  const tokensBefore = seen.tokenRequests;
  await addTask(page, 'Second');
  await assertNoVisibleError(page);
  assert.equal(refused, 1);
  assert.ok(seen.tokenRequests > tokensBefore, 'a new token was fetched after the 401');
  const posts = seen.sent.filter((s) => s.method === 'POST');
  assert.notEqual(posts.at(-1).jwt, posts.at(-2).jwt, 'the retry used the new token');
  assert.deepEqual(await taskTitles(page), ['First', 'Second']);
  await page.context().close();
});
