// Following Tessera's revocation feed (`GET /api/auth/revocations`) so the access tokens of
// ended sessions are refused within about one polling interval instead of at their `exp`.
//
// First poll without `since`; while an answer says `more`, ask again at once with
// `since=<cursor>`; later polls send the last cursor. Each id stays in the local set for
// `window_seconds` after it was first received, then is dropped. A failed poll keeps the set
// and the cursor (logged once, not on every poll); a cursor the server no longer understands
// (400 INVALID_CURSOR) starts over without `since`.

import { ConfigError } from './errors.js';
import { FetchError, checkUrl, getBounded } from './http.js';

const MAX_FEED_BYTES = 1 << 20;
const MAX_PAGES_PER_POLL = 100;
const DEFAULT_WINDOW_SECONDS = 960;

export class RevocationFeed {
  /**
   * @param {string} url  e.g. https://auth.example.com/api/auth/revocations
   * @param {object} [options] secret (Tessera's --revocations-secret), intervalMs (default 1000),
   *   timeoutMs, start (default true), now (ms clock, default performance.now), logger (default console)
   */
  constructor(url, { secret, intervalMs = 1000, timeoutMs, start = true, now = () => performance.now(), logger = console } = {}) {
    this.url = checkUrl(url, 'the revocation feed URL');
    if (!(intervalMs >= 100)) throw new ConfigError('the revocation feed interval must be at least 100 ms');
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs ?? Math.max(intervalMs, 2000);
    Object.defineProperty(this, 'headers', { value: secret ? { authorization: `Bearer ${secret}` } : {}, enumerable: false });
    this.now = now;
    this.logger = logger;
    this.revoked = new Map(); // sid -> when to forget it (clock ms)
    this.cursor = null;
    this.failing = false;
    this.healthy = false;
    this.timer = null;
    this.running = null;
    this.stopped = false;
    this.readyWaiters = [];
    if (start) this.start();
  }

  has(sid) {
    return this.revoked.has(sid);
  }

  get size() {
    return this.revoked.size;
  }

  /** The verifier's revocation hook. */
  isRevoked(claims) {
    return claims.sid !== undefined && this.revoked.has(claims.sid);
  }

  /** One round: pages until `more` is false. Resolves to whether it succeeded. */
  poll() {
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  async round() {
    try {
      for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
        if (!(await this.page())) break;
      }
    } catch (e) {
      if (!this.failing) this.logger?.warn?.(`revocation feed ${this.url} failed (${e.message}); keeping ${this.revoked.size} revoked sessions`);
      this.failing = true;
      this.healthy = false;
      return false;
    } finally {
      this.expire();
    }
    if (this.failing) this.logger?.info?.(`revocation feed ${this.url} reachable again`);
    this.failing = false;
    this.healthy = true;
    for (const resolve of this.readyWaiters.splice(0)) resolve(true);
    return true;
  }

  async page() {
    let url = this.url;
    if (this.cursor !== null) url += `${url.includes('?') ? '&' : '?'}since=${encodeURIComponent(this.cursor)}`;
    let body;
    try {
      body = await getBounded(url, { maxBytes: MAX_FEED_BYTES, timeoutMs: this.timeoutMs, headers: this.headers });
    } catch (e) {
      if (e instanceof FetchError && e.status === 400 && this.cursor !== null && new TextDecoder().decode(e.body ?? new Uint8Array()).includes('INVALID_CURSOR')) {
        this.logger?.warn?.(`revocation feed ${this.url} refused the cursor; starting over`);
        this.cursor = null;
        return true;
      }
      throw e;
    }
    const doc = JSON.parse(new TextDecoder().decode(body));
    const sessions = doc?.sessions;
    const window = doc?.window_seconds ?? DEFAULT_WINDOW_SECONDS;
    const cursor = doc?.cursor ?? null;
    const more = doc?.more ?? false;
    if (
      !Array.isArray(sessions) ||
      !sessions.every((s) => typeof s === 'string') ||
      !Number.isInteger(window) ||
      window <= 0 ||
      (cursor !== null && typeof cursor !== 'string') ||
      typeof more !== 'boolean'
    ) {
      throw new Error('not a revocation feed document');
    }
    const forgetAt = this.now() + window * 1000;
    for (const sid of sessions) {
      if (!this.revoked.has(sid)) this.revoked.set(sid, forgetAt); // kept for the window after it was first seen
    }
    if (cursor !== null) this.cursor = cursor;
    return more && cursor !== null;
  }

  expire() {
    const now = this.now();
    for (const [sid, at] of this.revoked) if (at <= now) this.revoked.delete(sid);
  }

  start() {
    if (this.timer || this.stopped) return;
    const tick = async () => {
      await this.poll();
      if (!this.stopped) {
        this.timer = setTimeout(tick, this.intervalMs);
        this.timer.unref?.();
      }
    };
    this.timer = setTimeout(tick, 0);
    this.timer.unref?.();
  }

  /** Resolves to true once a poll has succeeded, false after `timeoutMs`. */
  ready(timeoutMs = 5000) {
    if (this.healthy) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.readyWaiters.push(resolve);
      const t = setTimeout(() => resolve(false), timeoutMs);
      t.unref?.();
    });
  }

  close() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** A fixed set of revoked session ids (tokens without `sid` are never affected). */
export class RevokedSessions {
  constructor(sids = []) {
    this.ids = new Set(sids);
  }

  add(sid) {
    this.ids.add(sid);
  }

  has(sid) {
    return this.ids.has(sid);
  }

  isRevoked(claims) {
    return claims.sid !== undefined && this.ids.has(claims.sid);
  }
}
