// A JWKS fetched from one configured URL, cached, refreshed, never taken from a token (the
// behaviour of crates/tessera-verify/src/remote.rs):
// * a request whose kid is known never waits for the network;
// * an unknown kid refetches at most once per cooldown (the first fetch counts), single-flight:
//   concurrent requests share one fetch;
// * a failed fetch keeps the last good set; with no good set ever, verification fails closed
//   (`keys_unavailable`, 503);
// * optional background refresh on an unref'd timer.

import { VerifyError } from './errors.js';
import { FetchError, checkUrl, getBounded } from './http.js';
import { prepareKeySet } from './keys.js';

export class RemoteJwks {
  constructor(url, { cooldownMs, refreshIntervalMs, timeoutMs, maxBytes, logger }) {
    this.url = checkUrl(url, 'the JWKS URL');
    this.cooldownMs = cooldownMs;
    this.refreshIntervalMs = refreshIntervalMs;
    this.timeoutMs = timeoutMs;
    this.maxBytes = maxBytes;
    this.logger = logger;
    this.current = null;
    this.inflight = null; // the one fetch in progress
    this.lastOnDemand = null;
    this.timer = null;
  }

  unavailable() {
    return new VerifyError('keys_unavailable', 'signing keys unavailable', { retryAfter: Math.max(1, Math.floor(this.cooldownMs / 1000)) });
  }

  async keySetFor(kid) {
    this.ensureBackgroundRefresh();
    if (this.current?.has(kid)) return this.current;
    // Slow path: wait for a fetch in progress, or start one if the cooldown allows.
    while (this.inflight) {
      await this.inflight;
      if (this.current?.has(kid)) return this.current;
    }
    if (this.onDemandAllowed()) await this.fetchOnce();
    if (this.current === null) throw this.unavailable();
    if (!this.current.has(kid)) throw new VerifyError('unknown_key', 'unknown signing key');
    return this.current;
  }

  /** Fetches now, ignoring the cooldown; resolves to the usable key count. */
  async refresh() {
    while (this.inflight) await this.inflight;
    if (!(await this.fetchOnce())) throw this.unavailable();
    return this.current.size;
  }

  onDemandAllowed() {
    const now = performance.now();
    if (this.lastOnDemand !== null && now - this.lastOnDemand < this.cooldownMs) return false;
    this.lastOnDemand = now;
    return true;
  }

  fetchOnce() {
    if (!this.inflight) {
      this.inflight = this.fetchAndStore().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  async fetchAndStore() {
    try {
      const body = await getBounded(this.url, { maxBytes: this.maxBytes, timeoutMs: this.timeoutMs });
      const keys = await prepareKeySet(new TextDecoder().decode(body));
      if (keys.size === 0) throw new FetchError('no usable key in the set');
      this.current = keys;
      return true;
    } catch (e) {
      this.logger?.warn?.(`JWKS fetch from ${this.url} failed (${e.message}); keeping the last good key set`);
      return false;
    }
  }

  ensureBackgroundRefresh() {
    if (this.refreshIntervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (!this.inflight) this.fetchOnce();
    }, this.refreshIntervalMs);
    this.timer.unref?.();
  }

  close() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
