// Passkeys with the unmodified Better Auth client and `@better-auth/passkey`'s client plugin
// in Chromium, with the browser's virtual authenticator (DevTools protocol `WebAuthn.*`):
// sign up → add a passkey → sign out → sign in with it → list, rename, delete; then the same
// with the authenticator's user verification off. The same
// script runs against Tessera and against a real Better Auth 1.7.25 server with the passkey
// plugin, each behind one origin (lib/same-origin.mjs: rp id `localhost`). Where the two
// answer differently the test says which answer each gives; docs/better-auth-differences.md
// ("Passkeys") lists them.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

import { startBetterAuth } from '../lib/better-auth.mjs';
import { sameOrigin } from '../lib/same-origin.mjs';
import { startTessera, uniqueEmail } from '../lib/tessera.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PASSWORD = 'correct horse battery';

async function buildPage() {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-passkey-page-'));
  await esbuild.build({
    entryPoints: [path.join(here, '..', 'browser', 'passkey-app.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outfile: path.join(out, 'app.js'),
    logLevel: 'silent',
  });
  fs.writeFileSync(path.join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><title>passkeys</title><script type="module" src="./app.js"></script>\n');
  return out;
}

for (const server of ['tessera', 'better-auth']) {
  describe(`passkeyClient in Chromium against ${server}`, () => {
    let dist;
    let front;
    let srv;
    let browser;
    let page;
    let cdp;
    let authenticatorId;
    const email = uniqueEmail(`pk-${server}`);
    let userId;
    let passkeyId;

    const call = (name, ...args) => page.evaluate(([n, a]) => window.interop[n](...a), [name, args]);

    before(async () => {
      if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
      dist = await buildPage();
      front = await sameOrigin(dist);
      if (server === 'tessera') {
        srv = await startTessera({ args: ['--base-url', front.origin] });
        front.setTarget(srv.port);
      } else {
        srv = await startBetterAuth({ script: 'ba-passkey-server.mjs', args: [front.origin] });
        front.setTarget(srv.port);
      }
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], headless: true, timeout: 30000 });
      const context = await browser.newContext();
      page = await context.newPage();
      page.setDefaultTimeout(15000);
      cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      }));
      await page.goto(`${front.origin}/`);
      await page.waitForFunction(() => window.interopReady === true);
    });

    after(async () => {
      await browser?.close().catch(() => {});
      await srv?.stop();
      await front?.stop();
      if (dist) fs.rmSync(dist, { recursive: true, force: true });
    });

    it('addPasskey after sign-up registers a discoverable credential for rp id localhost', async () => {
      const up = await call('signUp', email, PASSWORD, 'Passkey User');
      assert.equal(up.error, null, JSON.stringify(up));
      userId = up.data.user.id;
      const added = await call('addPasskey', 'Laptop');
      assert.equal(added.thrown, undefined, added.thrown);
      assert.equal(added.error, null, JSON.stringify(added.error));
      const p = added.data;
      assert.equal(p.userId, userId);
      assert.equal(p.name, 'Laptop');
      assert.equal(typeof p.credentialID, 'string');
      assert.match(p.publicKey, /^[A-Za-z0-9+/]+=*$/, 'COSE key in standard base64');
      assert.equal(p.counter >= 0, true);
      passkeyId = p.id;
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0].rpId, 'localhost');
      assert.equal(credentials[0].credentialId.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'), p.credentialID);
      // Better Auth asks for a resident key if possible, Tessera requires one; both get one here
      assert.equal(credentials[0].isResidentCredential, true);
    });

    it('signIn.passkey after sign-out signs in without a password', async () => {
      const out = await call('signOut');
      assert.equal(out.error, null, JSON.stringify(out.error));
      assert.equal((await call('getSession')).data, null);
      const res = await call('signInPasskey');
      assert.equal(res.thrown, undefined, res.thrown);
      assert.equal(res.error, null, JSON.stringify(res.error));
      assert.equal(res.data.user.id, userId);
      // the answer's shape: Better Auth {session, user}; Tessera {token, user}
      if (server === 'tessera') assert.equal(typeof res.data.token, 'string');
      else assert.equal(typeof res.data.session.token, 'string');
      const s = await call('getSession');
      assert.equal(s.data.user.id, userId);
    });

    it('list, rename and delete', async () => {
      const list = await call('listPasskeys');
      assert.equal(list.error, null, JSON.stringify(list.error));
      assert.deepEqual(list.data.map((p) => p.id), [passkeyId]);
      const renamed = await call('updatePasskey', passkeyId, 'Work laptop');
      assert.equal(renamed.error, null, JSON.stringify(renamed.error));
      assert.equal(renamed.data.passkey.name, 'Work laptop');
      const gone = await call('deletePasskey', passkeyId);
      assert.equal(gone.error, null, JSON.stringify(gone.error));
      assert.deepEqual(gone.data, { status: true });
      assert.deepEqual((await call('listPasskeys')).data, []);
      // the authenticator still holds the credential; the server no longer knows it
      await call('signOut');
      const res = await call('signInPasskey');
      assert.equal(res.data, null);
      assert.equal(res.error.status, 401);
      assert.equal(res.error.code, 'PASSKEY_NOT_FOUND');
    });

    it('an authenticator without user verification registers and signs in (no second factor on the account)', async () => {
      // Both servers accept a passkey that did not verify the user as a first factor;
      // Tessera then still asks a two-factor account for its second factor (e2e/browser).
      // The authenticator's answers now say the user was not verified (the UV flag off in
      // the signed authenticator data; DevTools' response override bits).
      await cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId, isBadUV: true });
      // (the deleted passkey's credential would otherwise be offered first)
      await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
      const inAgain = await call('signIn', email, PASSWORD);
      assert.equal(inAgain.error, null, JSON.stringify(inAgain.error));
      const added = await call('addPasskey', 'No UV');
      assert.equal(added.thrown, undefined, added.thrown);
      assert.equal(added.error, null, `addPasskey: ${JSON.stringify(added.error)}`);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      await call('signOut');
      const res = await call('signInPasskey');
      assert.equal(res.thrown, undefined, res.thrown);
      assert.equal(res.error, null, JSON.stringify(res.error));
      assert.equal(res.data.user.id, userId);
      assert.equal((await call('getSession')).data.user.id, userId);
      if (server === 'tessera') {
        // the access token says a hardware key, not a verified user: no `user`, no `mfa`
        const amr = await page.evaluate(async () => {
          const { token } = await (await fetch('/api/auth/token', { credentials: 'include' })).json();
          const b64 = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
          return JSON.parse(atob(b64)).amr;
        });
        assert.deepEqual(amr, ['hwk']);
      }
    });
  });
}
