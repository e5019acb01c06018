// End to end: a real Tessera issues the tokens, this backend (a real `node server.js`
// process) accepts them, refuses a signed-out session's token within the revocation feed's
// interval, and picks up a key rotated with `tessera keys rotate` without a restart.
// Tessera is started by the interop suite's helper (127.0.0.1, free port, temp database).

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { SERVER_SECRET, accessToken, decodeJwt, freePort, signUpRaw, startTessera, tesseraBin } from '../../../e2e/interop/lib/tessera.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REVOCATIONS_SECRET = 'node-example-revocations-secret-0123456789abcdef';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it resolves truthy; returns the milliseconds it took, fails after `timeoutMs`. */
async function within(timeoutMs, fn, stepMs = 50) {
  const start = Date.now();
  while (!(await fn())) {
    if (Date.now() - start > timeoutMs) assert.fail(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
  return Date.now() - start;
}

async function startBackend(env) {
  const port = await freePort();
  const logs = [];
  const child = spawn(process.execPath, ['server.js'], {
    cwd: path.resolve(here, '..'),
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => logs.push(String(d)));
  child.stderr.on('data', (d) => logs.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  await within(10_000, async () => {
    if (child.exitCode !== null) assert.fail(`backend exited: ${logs.join('')}`);
    return fetch(`${url}/api/x/tasks`).then(() => true, () => false);
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

const bearer = (t) => ({ authorization: `Bearer ${t}` });

describe('the Node example backend against a real Tessera', () => {
  let tessera;
  let backend;

  before(async () => {
    // the feed secret as an environment variable: servers without the option still start
    tessera = await startTessera({ env: { TESSERA_REVOCATIONS_SECRET: REVOCATIONS_SECRET, TESSERA_KEY_ACTIVATION_DELAY: '2s' } });
    backend = await startBackend({
      TESSERA_JWKS_URL: `${tessera.baseURL}/api/auth/jwks`,
      TESSERA_REVOCATIONS_SECRET: REVOCATIONS_SECRET,
      TESSERA_REVOCATIONS_INTERVAL_MS: '200',
      TESSERA_JWKS_COOLDOWN_MS: '500',
    });
  });

  after(async () => {
    await backend?.stop();
    await tessera?.stop();
  });

  it('accepts Tessera tokens for their owner only', async () => {
    const alice = await signUpRaw(tessera.baseURL, { name: 'Alice' });
    const bob = await signUpRaw(tessera.baseURL, { name: 'Bob' });
    const aliceJwt = await accessToken(tessera.baseURL, alice.token);
    const bobJwt = await accessToken(tessera.baseURL, bob.token);
    const created = await fetch(`${backend.url}/api/${alice.user.id}/tasks`, {
      method: 'POST',
      headers: { ...bearer(aliceJwt), 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'from Tessera', userId: bob.user.id }),
    });
    assert.equal(created.status, 201);
    assert.equal((await created.json()).userId, alice.user.id);
    const list = await fetch(`${backend.url}/api/${alice.user.id}/tasks`, { headers: bearer(aliceJwt) });
    assert.deepEqual((await list.json()).map((t) => t.title), ['from Tessera']);

    const denied = await fetch(`${backend.url}/api/${alice.user.id}/tasks`, { headers: bearer(bobJwt) });
    const nobody = await fetch(`${backend.url}/api/no-such-user/tasks`, { headers: bearer(bobJwt) });
    assert.equal(denied.status, 403);
    assert.deepEqual(await denied.json(), await nobody.json());

    const none = await fetch(`${backend.url}/api/${alice.user.id}/tasks`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    const [h, p, s] = aliceJwt.split('.');
    const tampered = await fetch(`${backend.url}/api/${alice.user.id}/tasks`, { headers: bearer(`${h}.${p.slice(0, -3)}AAA.${s}`) });
    assert.equal(tampered.status, 401);
    assert.equal(tampered.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  });

  it('refuses a signed-out session within the feed interval', async () => {
    const erin = await signUpRaw(tessera.baseURL, { name: 'Erin' });
    const jwt = await accessToken(tessera.baseURL, erin.token);
    const tasks = `${backend.url}/api/${erin.user.id}/tasks`;
    assert.equal((await fetch(tasks, { headers: bearer(jwt) })).status, 200);
    const out = await fetch(`${tessera.baseURL}/api/auth/sign-out`, {
      method: 'POST',
      headers: { ...bearer(erin.token), origin: tessera.baseURL, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(out.status, 200);
    const took = await within(5000, async () => (await fetch(tasks, { headers: bearer(jwt) })).status === 401);
    assert.ok(took < 3000, `refused only after ${took} ms`);
    const res = await fetch(tasks, { headers: bearer(jwt) });
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  });

  it('picks up a key rotated from the CLI without a restart', async () => {
    const frank = await signUpRaw(tessera.baseURL, { name: 'Frank' });
    const old = await accessToken(tessera.baseURL, frank.token);
    const tasks = `${backend.url}/api/${frank.user.id}/tasks`;
    assert.equal((await fetch(tasks, { headers: bearer(old) })).status, 200);
    await promisify(execFile)(tesseraBin, ['keys', 'rotate', '--database-url', tessera.databaseURL], {
      env: { ...process.env, TESSERA_SECRET: SERVER_SECRET },
      timeout: 60_000,
    });
    // the server reloads its keys and, after the activation delay, signs with the new one
    let fresh;
    await within(10_000, async () => {
      fresh = await accessToken(tessera.baseURL, frank.token);
      return decodeJwt(fresh).header.kid !== decodeJwt(old).header.kid;
    }, 200);
    await within(10_000, async () => (await fetch(tasks, { headers: bearer(fresh) })).status === 200, 200);
    assert.equal((await fetch(tasks, { headers: bearer(old) })).status, 200);
  });
});
