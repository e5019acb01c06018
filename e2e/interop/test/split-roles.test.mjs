// The split deployment: `tessera serve --role auth` issues tokens, `tessera serve --role api
// --jwks-url <auth>/api/auth/jwks` serves the tasks API as a separate service with its own
// database. Tokens cross over; `tessera keys rotate` publishes the new key before it signs
// (--key-activation-delay), so the API service and jose, refetching the JWKS on an unknown
// kid, never refuse a token; sign-out reaches the API service through the revocation feed
// (GET /api/auth/revocations).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { createRemoteJWKSet, jwtVerify } from 'jose';

import { FEED_SECRET, SERVER_SECRET, accessToken, decodeJwt, signUpRaw, startTessera, tesseraBin } from '../lib/tessera.mjs';

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
    auth = await startTessera({ args: ['--role', 'auth', '--key-activation-delay', '6s'] });
    api = await startTessera({
      args: ['--role', 'api', '--jwks-url', `${auth.baseURL}/api/auth/jwks`, '--jwks-cooldown', '1s'],
    });
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

  it('key rotation: the new key is published before it signs, so the API service and jose never refuse a token', async (t) => {
    const oldKid = decodeJwt(jwt).header.kid;
    const { stdout } = await run(tesseraBin, ['keys', 'rotate', '--database-url', auth.databaseURL], {
      env: { ...process.env, TESSERA_SECRET: SERVER_SECRET },
      timeout: 20000,
    });
    assert.ok(stdout.length > 0);
    const rotatedAt = Date.now();

    // 1. published at once (the running server reloads keys every couple of seconds) ...
    let published;
    while (Date.now() - rotatedAt < 10000) {
      published = (await (await fetch(`${auth.baseURL}/api/auth/jwks`)).json()).keys;
      if (published.length === 2) break;
      await sleep(200);
    }
    assert.equal(published.length, 2, 'the rotated key was not published within 10 s');
    const newKid = published.map((k) => k.kid).find((k) => k !== oldKid);
    assert.ok(newKid);
    // ... 2. but not signing yet (activation delay: 6 s here, 60 s by default)
    assert.equal(decodeJwt(await accessToken(auth.baseURL, alice.token)).header.kid, oldKid);

    // 3. then it signs
    let fresh;
    while (Date.now() - rotatedAt < 25000) {
      fresh = await accessToken(auth.baseURL, alice.token);
      if (decodeJwt(fresh).header.kid === newKid) break;
      await sleep(250);
    }
    assert.equal(decodeJwt(fresh).header.kid, newKid, 'the published key did not start signing within 25 s');
    t.diagnostic(`the new key started signing ${Date.now() - rotatedAt} ms after keys rotate`);

    // the API service takes the very first new-key token: its unknown-kid refetch (cooldown
    // 1 s here, below the activation delay as the default 30 s is below 60 s) finds the key
    assert.equal((await tasks(fresh)).status, 200, 'the API service refused a token of the new key');
    assert.equal((await tasks(jwt)).status, 200, 'tokens of the retired key still verify until they expire');

    const JWKS = createRemoteJWKSet(new URL(`${auth.baseURL}/api/auth/jwks`), { cooldownDuration: 0 });
    for (const token of [jwt, fresh]) {
      const { payload } = await jwtVerify(token, JWKS, { issuer: auth.baseURL, audience: auth.baseURL });
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
      // the feed answers only the services holding its secret
      assert.equal((await fetch(`${auth.baseURL}/api/auth/revocations`)).status, 401);
      const feed = await (
        await fetch(`${auth.baseURL}/api/auth/revocations`, { headers: { authorization: `Bearer ${FEED_SECRET}` } })
      ).json();
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
