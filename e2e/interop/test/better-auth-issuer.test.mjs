// 1b. A real Better Auth 1.7 server issues the JWT; Tessera's tasks API, running as a
// separate service (`tessera serve --role api --jwks-url <better auth>/api/auth/jwks`),
// accepts it, and refuses tampered, unsigned and other users' tokens.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { startBetterAuth } from '../lib/better-auth.mjs';
import { decodeJwt, startTessera, uniqueEmail } from '../lib/tessera.mjs';

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const keys = (o) => Object.keys(o).sort();
const TASK_KEYS = ['completed', 'createdAt', 'description', 'id', 'title', 'updatedAt', 'userId'];
const INVALID_TOKEN = 'Bearer error="invalid_token"';
const INVALID_BODY = { message: 'Invalid token', code: 'INVALID_TOKEN' };
const FORBIDDEN_BODY = { message: 'Forbidden', code: 'FORBIDDEN' };

/** 401 with exactly Tessera's invalid-token challenge and body. */
async function assertInvalidToken(res) {
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), INVALID_TOKEN);
  assert.deepEqual(await res.json(), INVALID_BODY);
}

/** Signs up at the Better Auth server; returns { user, cookie, sessionToken }. */
async function baSignUp(baseURL, name) {
  const res = await fetch(`${baseURL}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseURL },
    body: JSON.stringify({ name, email: uniqueEmail(name.toLowerCase()), password: 'correct horse battery' }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  assert.match(cookie, /^better-auth\.session_token=/);
  return { user: body.user, cookie, sessionToken: body.token };
}

async function baToken(baseURL, headers) {
  const res = await fetch(`${baseURL}/api/auth/token`, { headers });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.token;
}

describe('Tessera --role api accepts JWTs from a real Better Auth server', () => {
  let ba;
  let api;
  let alice;
  let bob;
  let aliceJwt;
  let bobJwt;

  const call = (method, path, { token, body } = {}) =>
    fetch(`${api.baseURL}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10000),
    });

  before(async () => {
    ba = await startBetterAuth();
    api = await startTessera({ args: ['--role', 'api', '--jwks-url', `${ba.baseURL}/api/auth/jwks`, '--revocations-url', 'none'] });
    alice = await baSignUp(ba.baseURL, 'Alice');
    bob = await baSignUp(ba.baseURL, 'Bob');
    // one token through the session cookie, one through the bearer plugin
    aliceJwt = await baToken(ba.baseURL, { cookie: alice.cookie });
    bobJwt = await baToken(ba.baseURL, { authorization: `Bearer ${bob.sessionToken}` });
  });

  after(async () => {
    await api?.stop();
    await ba?.stop();
  });

  it('the Better Auth token is what 1.7 issues: EdDSA, kid, no typ, iss = aud = base URL origin', () => {
    const { header, payload } = decodeJwt(aliceJwt);
    assert.deepEqual(keys(header), ['alg', 'kid']);
    assert.equal(header.alg, 'EdDSA');
    assert.equal(payload.iss, ba.baseURL);
    assert.equal(payload.aud, ba.baseURL);
    assert.equal(payload.sub, alice.user.id);
    assert.equal(payload.exp - payload.iat, 900);
  });

  it('Tessera has no auth routes in this role', async () => {
    const res = await call('GET', '/api/auth/jwks');
    assert.equal(res.status, 404);
  });

  it('GET /api/<sub>/tasks with the token: 200 []', async () => {
    const res = await call('GET', `/api/${alice.user.id}/tasks`, { token: aliceJwt });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(await res.json(), []);
  });

  it('POST creates a task owned by the token subject; read, complete, list and delete it', async () => {
    const created = await call('POST', `/api/${alice.user.id}/tasks`, {
      token: aliceJwt,
      body: { title: 'ship interop', description: 'from better auth', userId: bob.user.id },
    });
    assert.equal(created.status, 201);
    const task = await created.json();
    assert.deepEqual(keys(task), TASK_KEYS);
    assert.equal(task.userId, alice.user.id, 'owner comes from the token, never the body');
    assert.equal(task.title, 'ship interop');
    assert.equal(task.description, 'from better auth');
    assert.equal(task.completed, false);

    const one = await call('GET', `/api/${alice.user.id}/tasks/${task.id}`, { token: aliceJwt });
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), task);

    const done = await call('PATCH', `/api/${alice.user.id}/tasks/${task.id}/complete`, { token: aliceJwt });
    assert.equal(done.status, 200);
    assert.equal((await done.json()).completed, true);

    const list = await call('GET', `/api/${alice.user.id}/tasks`, { token: aliceJwt });
    const tasks = await list.json();
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].id, task.id);

    // Bob's own list is empty, and Alice's task id is a 404 for him
    assert.deepEqual(await (await call('GET', `/api/${bob.user.id}/tasks`, { token: bobJwt })).json(), []);
    assert.equal((await call('GET', `/api/${bob.user.id}/tasks/${task.id}`, { token: bobJwt })).status, 404);

    const del = await call('DELETE', `/api/${alice.user.id}/tasks/${task.id}`, { token: aliceJwt });
    assert.equal(del.status, 204);
  });

  it('no Authorization: 401 with WWW-Authenticate: Bearer', async () => {
    const res = await call('GET', `/api/${alice.user.id}/tasks`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await res.json(), { message: 'Unauthorized', code: 'UNAUTHORIZED' });
  });

  it('a tampered payload (one character changed) is refused with 401 invalid_token', async () => {
    const [h, p, s] = aliceJwt.split('.');
    const json = Buffer.from(p, 'base64url').toString();
    // change one character of the claims (still valid JSON, same length): a forged name
    const forged = json.replace('"name":"Alice"', '"name":"Alicf"');
    assert.notEqual(forged, json);
    const tampered = `${h}.${b64url(forged)}.${s}`;
    await assertInvalidToken(await call('GET', `/api/${alice.user.id}/tasks`, { token: tampered }));

    // and one base64url character of the encoded payload flipped
    const i = Math.floor(p.length / 2);
    const flipped = `${h}.${p.slice(0, i)}${p[i] === 'A' ? 'B' : 'A'}${p.slice(i + 1)}.${s}`;
    await assertInvalidToken(await call('GET', `/api/${alice.user.id}/tasks`, { token: flipped }));
  });

  it('alg "none" and HS256-with-the-public-key tokens are refused with 401', async () => {
    const { header, payload } = decodeJwt(aliceJwt);
    const none = `${b64url({ alg: 'none', kid: header.kid })}.${b64url(payload)}.`;
    await assertInvalidToken(await call('GET', `/api/${alice.user.id}/tasks`, { token: none }));

    // key confusion: HMAC keyed with the published public key
    const jwks = await (await fetch(`${ba.baseURL}/api/auth/jwks`)).json();
    const pub = Buffer.from(jwks.keys[0].x, 'base64url');
    const signingInput = `${b64url({ alg: 'HS256', kid: header.kid })}.${b64url(payload)}`;
    const mac = createHmac('sha256', pub).update(signingInput).digest('base64url');
    await assertInvalidToken(await call('GET', `/api/${alice.user.id}/tasks`, { token: `${signingInput}.${mac}` }));
  });

  it("another user's id in the path: 403, whether or not that user exists", async () => {
    const res = await call('GET', `/api/${bob.user.id}/tasks`, { token: aliceJwt });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), FORBIDDEN_BODY);
    const ghost = await call('GET', `/api/${'x'.repeat(32)}/tasks`, { token: aliceJwt });
    assert.equal(ghost.status, 403);
    assert.deepEqual(await ghost.json(), FORBIDDEN_BODY);
    const post = await call('POST', `/api/${bob.user.id}/tasks`, { token: aliceJwt, body: { title: 'sneaky' } });
    assert.equal(post.status, 403);
  });
});
