// 4. The real topology in Chromium: a frontend on another origin uses the Better Auth
// client (credentials: 'include') to sign up and in against Tessera, gets a JWT with
// token(), and calls the tasks API with it. Tessera trusts that origin only: the same page
// served from a third origin gets CORS failures and no session.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

import { serveStatic } from '../lib/static-server.mjs';
import { decodeJwt, startTessera, uniqueEmail } from '../lib/tessera.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PASSWORD = 'correct horse battery';
const COOKIE = 'better-auth.session_token';

/** Bundles browser/app.js (with better-auth/client) and copies index.html into a temp dir. */
async function buildFrontend() {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-frontend-'));
  await esbuild.build({
    entryPoints: [path.join(here, '..', 'browser', 'app.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outfile: path.join(out, 'app.js'),
    logLevel: 'silent',
  });
  fs.copyFileSync(path.join(here, '..', 'browser', 'index.html'), path.join(out, 'index.html'));
  return out;
}

describe('Chromium: a frontend on a trusted origin, the same page on an untrusted one', () => {
  let dist;
  let frontend; // trusted by Tessera
  let stranger; // same page, not trusted
  let tessera;
  let browser;
  let context;
  let page;
  const email = uniqueEmail('browser');
  let userId;
  let jwt;

  const open = async (origin) => {
    const p = await context.newPage();
    p.setDefaultTimeout(15000);
    await p.goto(`${origin}/?tessera=${encodeURIComponent(tessera.baseURL)}`);
    await p.waitForFunction(() => window.interopReady === true);
    return p;
  };

  before(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
    dist = await buildFrontend();
    frontend = await serveStatic(dist);
    stranger = await serveStatic(dist);
    tessera = await startTessera({ args: ['--trusted-origins', frontend.origin] });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30000 });
    context = await browser.newContext();
    page = await open(frontend.origin);
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await tessera?.stop();
    await frontend?.stop();
    await stranger?.stop();
    if (dist) fs.rmSync(dist, { recursive: true, force: true });
  });

  it('trusted origin: sign up sets an HttpOnly, SameSite=Lax cookie usable cross-origin', async () => {
    const res = await page.evaluate(([e, p]) => window.interop.signUp(e, p, 'Browser User'), [email, PASSWORD]);
    assert.equal(res.thrown, undefined, res.thrown);
    assert.equal(res.error, null, JSON.stringify(res.error));
    assert.equal(res.data.user.email, email);
    assert.ok(res.data.user.createdAt instanceof Date, 'the client revived createdAt in the browser');
    userId = res.data.user.id;

    const cookies = await context.cookies(tessera.baseURL);
    const session = cookies.find((c) => c.name === COOKIE);
    assert.ok(session, `no ${COOKIE} cookie: ${JSON.stringify(cookies)}`);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    assert.equal(session.domain, '127.0.0.1');
    assert.equal(session.path, '/');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the frontend origin cannot read it');
  });

  it('trusted origin: getSession with credentials, set-auth-jwt exposed, token() gives a JWT', async () => {
    const s = await page.evaluate(() => window.interop.getSession());
    assert.equal(s.thrown, undefined, s.thrown);
    assert.equal(s.data.user.id, userId);
    assert.ok(s.data.session.expiresAt instanceof Date);
    const exposed = await page.evaluate(() => window.interop.lastJwtHeader());
    assert.ok(exposed, 'set-auth-jwt must be readable cross-origin (Access-Control-Expose-Headers)');
    assert.equal(decodeJwt(exposed).payload.sub, userId);

    const t = await page.evaluate(() => window.interop.token());
    assert.equal(t.error, null, JSON.stringify(t.error));
    jwt = t.data.token;
    const { header, payload } = decodeJwt(jwt);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(payload.sub, userId);
    assert.equal(payload.iss, tessera.baseURL);
  });

  it('trusted origin: the tasks API with Authorization: Bearer <jwt>', async () => {
    const created = await page.evaluate(([u, j]) => window.interop.createTask(u, j, 'from the browser'), [userId, jwt]);
    assert.equal(created.thrown, undefined, created.thrown);
    assert.equal(created.status, 201);
    assert.equal(created.body.title, 'from the browser');
    assert.equal(created.body.userId, userId);
    const list = await page.evaluate(([u, j]) => window.interop.listTasks(u, j), [userId, jwt]);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.map((t) => t.id), [created.body.id]);
    const other = await page.evaluate(([j]) => window.interop.listTasks('someone-else', j), [jwt]);
    assert.equal(other.status, 403);
  });

  it('untrusted origin, same browser (cookie present): no session, no sign-up, no API', async () => {
    const evil = await open(stranger.origin);
    try {
      const s = await evil.evaluate(() => window.interop.getSession());
      assert.match(s.thrown ?? '', /TypeError: Failed to fetch/, `expected a CORS failure, got ${JSON.stringify(s)}`);
      const t = await evil.evaluate(() => window.interop.token());
      assert.match(t.thrown ?? '', /TypeError: Failed to fetch/);

      const strangerEmail = uniqueEmail('stranger');
      const up = await evil.evaluate(([e, p]) => window.interop.signUp(e, p, 'Stranger'), [strangerEmail, PASSWORD]);
      assert.match(up.thrown ?? '', /TypeError: Failed to fetch/);
      // the preflight failed, so the sign-up never reached Tessera
      const check = await fetch(`${tessera.baseURL}/api/auth/sign-in/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: tessera.baseURL },
        body: JSON.stringify({ email: strangerEmail, password: PASSWORD }),
      });
      assert.equal(check.status, 401, 'the stranger page must not have created an account');

      const tasks = await evil.evaluate(([u, j]) => window.interop.listTasks(u, j), [userId, jwt]);
      assert.match(tasks.thrown ?? '', /TypeError: Failed to fetch/);
    } finally {
      await evil.close();
    }

    // the trusted page still has its session
    const s = await page.evaluate(() => window.interop.getSession());
    assert.equal(s.data.user.id, userId);
  });

  it('the CORS answers behind it: credentials for the trusted origin only', async () => {
    const ask = (origin) =>
      fetch(`${tessera.baseURL}/api/auth/sign-in/email`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const trusted = await ask(frontend.origin);
    assert.equal(trusted.headers.get('access-control-allow-origin'), frontend.origin);
    assert.equal(trusted.headers.get('access-control-allow-credentials'), 'true');
    assert.match(trusted.headers.get('access-control-allow-headers'), /content-type/i);
    assert.match(trusted.headers.get('access-control-allow-methods'), /POST/);
    const untrusted = await ask(stranger.origin);
    assert.equal(untrusted.headers.get('access-control-allow-origin'), null);

    const get = await fetch(`${tessera.baseURL}/api/auth/get-session`, { headers: { origin: frontend.origin } });
    assert.equal(get.headers.get('access-control-allow-origin'), frontend.origin);
    assert.match(get.headers.get('vary'), /origin/i);
    const get2 = await fetch(`${tessera.baseURL}/api/auth/get-session`, { headers: { origin: stranger.origin } });
    assert.equal(get2.headers.get('access-control-allow-origin'), null);
  });

  it('trusted origin: sign out ends the session, sign in starts a new one', async () => {
    const out = await page.evaluate(() => window.interop.signOut());
    assert.deepEqual(out.data, { success: true });
    assert.equal((await page.evaluate(() => window.interop.getSession())).data, null);
    assert.equal((await context.cookies(tessera.baseURL)).find((c) => c.name === COOKIE), undefined);

    const wrong = await page.evaluate(([e]) => window.interop.signIn(e, 'wrong password!'), [email]);
    assert.equal(wrong.error.status, 401);
    assert.equal(wrong.error.code, 'INVALID_EMAIL_OR_PASSWORD');

    const inAgain = await page.evaluate(([e, p]) => window.interop.signIn(e, p), [email, PASSWORD]);
    assert.equal(inAgain.error, null, JSON.stringify(inAgain.error));
    assert.equal(inAgain.data.user.id, userId);
    const s = await page.evaluate(() => window.interop.getSession());
    assert.equal(s.data.user.id, userId);
  });
});
