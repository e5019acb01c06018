// The revocation feed follower against a loopback stub speaking the feed protocol.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { ConfigError, RevocationFeed } from '../src/index.js';
import { startStub } from './stub.mjs';

const SECRET = 'feed-secret-of-at-least-32-bytes-0123456789';
const page = (sessions, cursor, { more = false, window = 960 } = {}) => ({
  status: 200,
  body: JSON.stringify({ sessions, window_seconds: window, cursor, more }),
});
const quiet = { warnings: [], warn(m) { this.warnings.push(m); }, info() {} };

describe('RevocationFeed', () => {
  let stub;
  beforeEach(async () => {
    stub = await startStub();
    quiet.warnings = [];
  });
  afterEach(() => stub.close());

  it('pages until more is false, sends the secret and the URL-encoded cursor', async () => {
    stub.handler = (req) => (new URL(req.url, stub.url).searchParams.get('since') === 'c/1+' ? page(['s3'], 'c2') : page(['s1', 's2'], 'c/1+', { more: true }));
    const feed = new RevocationFeed(`${stub.url}/api/auth/revocations`, { secret: SECRET, start: false, logger: quiet });
    assert.equal(await feed.poll(), true);
    assert.ok(['s1', 's2', 's3'].every((s) => feed.has(s)));
    assert.equal(feed.cursor, 'c2');
    assert.equal(stub.requests[1].url, '/api/auth/revocations?since=c%2F1%2B');
    assert.ok(stub.requests.every((r) => r.headers.authorization === `Bearer ${SECRET}`));
    assert.equal(feed.isRevoked({ sid: 's2' }), true);
    assert.equal(feed.isRevoked({ sid: 'other' }), false);
    assert.equal(feed.isRevoked({}), false);
  });

  it('sends the last cursor and drops ids window_seconds after they were first seen', async () => {
    let t = 0;
    const answers = [page(['s1'], 'c1', { window: 60 }), page(['s1', 's2'], 'c2', { window: 60 }), page([], 'c3', { window: 60 })];
    stub.handler = () => answers[stub.requests.length - 1];
    const feed = new RevocationFeed(`${stub.url}/rev`, { start: false, now: () => t, logger: quiet });
    await feed.poll();
    t += 30_000;
    await feed.poll();
    t += 31_000;
    await feed.poll();
    assert.deepEqual(stub.requests.map((r) => r.url), ['/rev', '/rev?since=c1', '/rev?since=c2']);
    assert.equal(feed.has('s1'), false);
    assert.equal(feed.has('s2'), true);
  });

  it('keeps the set and the cursor when a poll fails, and warns once', async () => {
    let up = true;
    stub.handler = () => (up ? page(['s1'], 'c1') : { status: 500, body: 'down' });
    const feed = new RevocationFeed(`${stub.url}/rev`, { start: false, logger: quiet });
    assert.equal(await feed.poll(), true);
    up = false;
    assert.equal(await feed.poll(), false);
    assert.equal(await feed.poll(), false);
    assert.equal(quiet.warnings.length, 1);
    assert.equal(feed.has('s1'), true);
    assert.equal(feed.healthy, false);
    up = true;
    assert.equal(await feed.poll(), true);
    assert.equal(stub.requests.at(-1).url, '/rev?since=c1');
  });

  for (const body of ['not json', '{"sessions":"s1"}', '{"sessions":[1]}', '{"sessions":[],"more":"yes"}']) {
    it(`treats ${body} as a failure`, async () => {
      stub.response = { status: 200, body };
      const feed = new RevocationFeed(`${stub.url}/rev`, { start: false, logger: quiet });
      assert.equal(await feed.poll(), false);
    });
  }

  it('starts over when the cursor is refused', async () => {
    const answers = [page(['s1'], 'c1'), { status: 400, body: '{"code":"INVALID_CURSOR","message":"x"}' }, page(['s2'], 'c9')];
    stub.handler = () => answers[stub.requests.length - 1];
    const feed = new RevocationFeed(`${stub.url}/rev`, { start: false, logger: quiet });
    await feed.poll();
    assert.equal(await feed.poll(), true);
    assert.deepEqual(stub.requests.map((r) => r.url), ['/rev', '/rev?since=c1', '/rev']);
    assert.equal(feed.cursor, 'c9');
  });

  it('cannot be pinned by a server that always says more', async () => {
    stub.handler = () => page([`s${stub.requests.length}`], `c${stub.requests.length}`, { more: true });
    const feed = new RevocationFeed(`${stub.url}/rev`, { start: false, logger: quiet });
    assert.equal(await feed.poll(), true);
    assert.equal(stub.hits, 100);
  });

  it('follows the feed in the background', async () => {
    stub.handler = () => page(stub.requests.length >= 3 ? ['s1'] : [], `c${stub.requests.length}`);
    const feed = new RevocationFeed(`${stub.url}/rev`, { intervalMs: 100, logger: quiet });
    try {
      assert.equal(await feed.ready(5000), true);
      const deadline = Date.now() + 5000;
      while (!feed.has('s1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(feed.has('s1'), true);
    } finally {
      feed.close();
    }
  });

  it('checks its configuration and never shows the secret', () => {
    assert.throws(() => new RevocationFeed('ftp://x/rev', { start: false }), ConfigError);
    assert.throws(() => new RevocationFeed('http://127.0.0.1/rev', { intervalMs: 10, start: false }), ConfigError);
    const feed = new RevocationFeed('http://127.0.0.1/rev', { secret: SECRET, start: false });
    assert.ok(!JSON.stringify(feed).includes(SECRET));
  });
});
