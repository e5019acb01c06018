// The split deployment: `tessera serve --role auth` issues tokens, `tessera serve --role api
// --jwks-url <auth>/api/auth/jwks` serves the tasks API as a separate service with its own
// database. Tokens cross over, key rotation (`tessera keys rotate`) reaches the API service
// and jose through the JWKS, and sign-out reaches it through the revocation feed
// (GET /api/auth/revocations).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { createRemoteJWKSet, jwtVerify } from 'jose';

import { SERVER_SECRET, accessToken, decodeJwt, signUpRaw, startTessera, tesseraBin } from '../lib/tessera.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('tessera --role auth + tessera --role api (separate services)', () => {
  let auth;
  let api;
  let alice;
  let jwt;

  const tasks = (token, user = alice.user.id) =>
    fetch(`${api.baseURL}/api/${user}/tasks`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10000),
    });

  before(async () => {
    auth = await startTessera({ args: ['--role', 'auth'] });
    api = await startTessera({ args: ['--role', 'api', '--jwks-url', `${auth.baseURL}/api/auth/jwks`] });
    alice = await signUpRaw(auth.baseURL, { name: 'Split Alice' });
    jwt = await accessToken(auth.baseURL, alice.token);
  });

  after(async () => {
    await api?.stop();
    await auth?.stop();
  });

  it('each role serves only its half', async () => {
    assert.equal((await fetch(`${auth.baseURL}/api/${alice.user.id}/tasks`)).status, 404);
    assert.equal((await fetch(`${api.baseURL}/api/auth/jwks`)).status, 404);
    assert.equal((await fetch(`${api.baseURL}/api/auth/ok`)).status, 404);
    assert.deepEqual(await (await fetch(`${auth.baseURL}/api/auth/ok`)).json(), { ok: true });
  });

  it("the API service accepts the auth service's token (iss/aud default to the JWKS origin)", async () => {
    const res = await tasks(jwt);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), []);
    const created = await fetch(`${api.baseURL}/api/${alice.user.id}/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'split' }),
    });
    assert.equal(created.status, 201);
    assert.equal((await created.json()).userId, alice.user.id);
  });

  it('key rotation: new tokens carry the new kid; the API service and jose accept old and new', async (t) => {
    const oldKid = decodeJwt(jwt).header.kid;
    const { stdout } = await run(tesseraBin, ['keys', 'rotate', '--database-url', auth.databaseURL], {
      env: { ...process.env, TESSERA_SECRET: SERVER_SECRET },
      timeout: 20000,
    });
    assert.ok(stdout.length > 0);

    // the running auth server picks the new key up within seconds
    let fresh;
    const deadline = Date.now() + 25000;
    while (Date.now() < deadline) {
      fresh = await accessToken(auth.baseURL, alice.token);
      if (decodeJwt(fresh).header.kid !== oldKid) break;
      await sleep(500);
    }
    const newKid = decodeJwt(fresh).header.kid;
    assert.notEqual(newKid, oldKid, 'the auth server did not start signing with the rotated key in 25 s');
    const jwks = await (await fetch(`${auth.baseURL}/api/auth/jwks`)).json();
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [oldKid, newKid].sort());

    // The API service refetches the JWKS on an unknown kid, at most once per 30 s cooldown
    // (tessera-verify's default). Its first fetch, moments ago, started that cooldown, and
    // `keys rotate` signs with the new key at once, so new tokens may be refused for up to
    // 30 s. Wait that out (bounded) rather than pretend it is instant.
    const firstNewToken = Date.now();
    let status;
    while (Date.now() - firstNewToken < 45000) {
      status = (await tasks(fresh)).status;
      if (status === 200) break;
      await sleep(500);
    }
    assert.equal(status, 200, 'the API service never accepted a token of the rotated key');
    t.diagnostic(`the API service refused new-key tokens for ${Date.now() - firstNewToken} ms after the auth server issued them`);
    assert.equal((await tasks(jwt)).status, 200, 'tokens of the retired key still verify until they expire');

    const JWKS = createRemoteJWKSet(new URL(`${auth.baseURL}/api/auth/jwks`), { cooldownDuration: 0 });
    for (const t of [jwt, fresh]) {
      const { payload } = await jwtVerify(t, JWKS, { issuer: auth.baseURL, audience: auth.baseURL });
      assert.equal(payload.sub, alice.user.id);
    }
  });

  it(
    "sign-out on the auth service stops the session's tokens at the API service within seconds",
    async () => {
      const token = await accessToken(auth.baseURL, alice.token);
      assert.equal((await tasks(token)).status, 200);
      const out = await fetch(`${auth.baseURL}/api/auth/sign-out`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(out.status, 200);
      const feed = await (await fetch(`${auth.baseURL}/api/auth/revocations`)).json();
      assert.ok(feed.sessions.includes(decodeJwt(token).payload.sid));
      const deadline = Date.now() + 5000;
      let status;
      while (Date.now() < deadline) {
        status = (await tasks(token)).status;
        if (status === 401) break;
        await sleep(250);
      }
      assert.equal(status, 401, 'the ended session\'s token still works at the API service after 5 s');
    },
  );
});
