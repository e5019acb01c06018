// The bearer rules, HTTP answers and the framework helpers (Hono for real; Next.js route
// handlers with web-standard Requests; Express and Fastify through their request/response
// shapes — the Node example backend runs the Express one under a real Express).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';

import { Hono } from 'hono';

import { Verifier, VerifyError, bearerToken, expressAuth, fastifyAuth, honoAuth, requireMfa, withAuth } from '../src/index.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const ISS = 'https://auth.test';
const b64 = (s) => Buffer.from(s).toString('base64url');

function mint(changes = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = Object.fromEntries(
    Object.entries({ iss: ISS, aud: ISS, sub: 'alice', sid: 's1', iat: now, exp: now + 300, ...changes }).filter(([, v]) => v !== null),
  );
  const input = `${b64(JSON.stringify({ alg: 'HS256' }))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${crypto.createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

const verifier = new Verifier({ issuer: ISS, audience: ISS, hs256Secret: SECRET });
const bearer = (t) => ({ authorization: `Bearer ${t}` });

describe('bearer rules and answers', () => {
  it('reads exactly one Bearer token', () => {
    assert.equal(bearerToken('Bearer t'), 't');
    assert.equal(bearerToken('bearer t'), 't');
    for (const [value, kind] of [
      [undefined, 'missing'],
      ['Basic dTpw', 'missing'],
      ['t', 'missing'],
      ['Bearer', 'malformed'],
      ['Bearer ', 'malformed'],
      ['Bearer  t', 'malformed'],
      ['Bearer t x', 'malformed'],
      [['Bearer a', 'Bearer b'], 'invalid_request'],
    ]) {
      assert.throws(() => bearerToken(value), (e) => e instanceof VerifyError && e.kind === kind, String(value));
    }
  });

  it('answers as RFC 6750 says', () => {
    assert.deepEqual([new VerifyError('missing').status, new VerifyError('missing').headers], [401, { 'WWW-Authenticate': 'Bearer' }]);
    assert.equal(new VerifyError('revoked').wwwAuthenticate, 'Bearer error="invalid_token"');
    assert.equal(new VerifyError('invalid_request').status, 400);
    const down = new VerifyError('keys_unavailable', '', { retryAfter: 30 });
    assert.deepEqual([down.status, down.headers, down.body.code], [503, { 'Retry-After': '30' }, 'SERVICE_UNAVAILABLE']);
  });

  it('requireMfa reads amr', () => {
    assert.throws(() => requireMfa({ amr: ['pwd'] }), (e) => e.status === 401 && e.body.code === 'MFA_REQUIRED');
    assert.ok(requireMfa({ amr: ['pwd', 'mfa'] }));
  });
});

describe('Hono', () => {
  const app = new Hono();
  app.use('/api/:user_id/*', honoAuth(verifier, { owner: 'user_id' }));
  app.get('/api/:user_id/tasks', (c) => c.json([`secret task of ${c.get('auth').sub}`]));

  it('passes the owner, 403s anyone else with one body, 401s without a token', async () => {
    assert.deepEqual(await (await app.request('/api/alice/tasks', { headers: bearer(mint()) })).json(), ['secret task of alice']);
    const other = await app.request('/api/bob/tasks', { headers: bearer(mint()) });
    const nobody = await app.request('/api/no-such-user/tasks', { headers: bearer(mint()) });
    assert.equal(other.status, 403);
    assert.deepEqual(await other.json(), await nobody.json());
    const none = await app.request('/api/alice/tasks');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    const bad = await app.request('/api/alice/tasks', { headers: bearer(mint({ iss: 'https://evil.test' })) });
    assert.equal(bad.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    assert.deepEqual(await bad.json(), { message: 'Invalid token', code: 'INVALID_TOKEN' });
  });
});

describe('Next.js route handlers (web-standard Request/Response)', () => {
  const GET = withAuth(verifier, (request, context, claims) => Response.json({ sub: claims.sub }), { owner: 'user_id' });
  const ctx = (userId) => ({ params: Promise.resolve({ user_id: userId }) });

  it('runs the handler only for the owner', async () => {
    const ok = await GET(new Request('http://x/api/alice', { headers: bearer(mint()) }), ctx('alice'));
    assert.deepEqual(await ok.json(), { sub: 'alice' });
    assert.equal((await GET(new Request('http://x/api/bob', { headers: bearer(mint()) }), ctx('bob'))).status, 403);
    const expired = await GET(new Request('http://x/api/alice', { headers: bearer(mint({ exp: 1000, iat: 900 })) }), ctx('alice'));
    assert.equal(expired.status, 401);
    assert.deepEqual(await expired.json(), { message: 'Token expired', code: 'INVALID_TOKEN' });
  });
});

/** A response recorder with Express's and Fastify's chaining methods. */
function recorder() {
  const r = { statusCode: 200, headers: {}, body: undefined };
  r.status = r.code = (s) => ((r.statusCode = s), r);
  r.set = r.headers_ = (h) => (Object.assign(r.headers, h), r);
  r.json = r.send = (b) => ((r.body = b), r);
  return r;
}

describe('Express and Fastify shapes', () => {
  it('express: req.auth for the owner, answers otherwise; repeated Authorization is 400', async () => {
    const mw = expressAuth(verifier, { owner: 'user_id' });
    const req = { rawHeaders: ['Authorization', `Bearer ${mint()}`], params: { user_id: 'alice' } };
    let nexted = false;
    await mw(req, recorder(), () => (nexted = true));
    assert.equal(nexted, true);
    assert.equal(req.auth.sub, 'alice');
    const res = recorder();
    await mw({ rawHeaders: ['authorization', `Bearer ${mint()}`], params: { user_id: 'bob' } }, res, () => assert.fail('next'));
    assert.deepEqual([res.statusCode, res.body], [403, { message: 'Forbidden', code: 'FORBIDDEN' }]);
    const twice = recorder();
    await mw({ rawHeaders: ['authorization', `Bearer ${mint()}`, 'Authorization', `Bearer ${mint()}`], params: {} }, twice, () => assert.fail('next'));
    assert.equal(twice.statusCode, 400);
  });

  it('fastify: request.auth, or the answer through reply', async () => {
    const hook = fastifyAuth(verifier);
    const request = { raw: { rawHeaders: ['authorization', `Bearer ${mint()}`] }, params: {} };
    assert.equal(await hook(request, recorder()), undefined);
    assert.equal(request.auth.sub, 'alice');
    const reply = recorder();
    reply.headers = reply.headers_;
    await hook({ raw: { rawHeaders: [] }, params: {} }, reply);
    assert.equal(reply.statusCode, 401);
    assert.deepEqual(reply.body, { message: 'Unauthorized', code: 'UNAUTHORIZED' });
  });
});

describe('remote JWKS under load', () => {
  it('concurrent unknown kids from a cold start share one fetch', async () => {
    const { startStub } = await import('./stub.mjs');
    const stub = await startStub();
    try {
      stub.response = { status: 200, body: '{"keys":[]}' };
      const remote = new Verifier({ issuer: ISS, audience: ISS, jwksUrl: `${stub.url}/jwks`, jwksRefreshIntervalMs: 0, logger: {} });
      const token = `${b64(JSON.stringify({ alg: 'EdDSA', kid: 'nope' }))}.${b64('{}')}.${b64('x'.repeat(64))}`;
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => remote.verify(token)));
      assert.deepEqual(results.map((r) => r.reason?.kind), Array(8).fill('keys_unavailable'));
      assert.equal(stub.hits, 1);
    } finally {
      await stub.close();
    }
  });

  it('a JWKS server that never answers times out into 503', async () => {
    const net = await import('node:net');
    const sockets = [];
    const server = net.createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const remote = new Verifier({ issuer: ISS, audience: ISS, jwksUrl: `http://127.0.0.1:${server.address().port}/jwks`, httpTimeoutMs: 500, jwksRefreshIntervalMs: 0, logger: {} });
      const started = Date.now();
      await assert.rejects(remote.verify(`${b64(JSON.stringify({ alg: 'EdDSA', kid: 'k' }))}.e30.AA`), (e) => e.kind === 'keys_unavailable' && e.status === 503);
      assert.ok(Date.now() - started < 3000);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
