// The access token (a short-lived JWT for the tasks API).
//
// It lives only in this module's memory: never in localStorage, sessionStorage or a
// cookie readable by scripts. It comes from `GET /api/auth/token` (or the `set-auth-jwt`
// header of `get-session`), which the HttpOnly session cookie authorises.
//
// Renewal: the token's lifetime is read from its own `iat`/`exp` and measured on this
// browser's clock from the moment it arrived, so a skewed clock does not matter. A timer
// renews it a margin before it expires (a quarter of its lifetime, at most 60 s, at least
// 2 s), and `accessToken()` renews on demand when the timer could not run (a sleeping
// laptop, a throttled background tab). Callers that still get a 401 call `renew()` once
// and retry (see api.js). If the server refuses to renew (401), the session is over and
// `onSessionEnded` listeners are told.

import { ApiError, send } from './http.js';

const MAX_MARGIN_MS = 60_000;
const MIN_MARGIN_MS = 2_000;
const RETRY_MS = 5_000;

let current = null; // { jwt, renewAt, expiresAt } on the local clock
let pending = null; // the renewal in flight, shared by every caller
let timer = null;
let generation = 0; // bumped by clear(): answers to older requests are dropped
const endedListeners = new Set();

/** Called when the server says the session is gone. */
export function onSessionEnded(fn) {
  endedListeners.add(fn);
}

/** The claims of a JWT, unverified (the server verifies; this only reads `exp`). */
export function decodeClaims(jwt) {
  const part = typeof jwt === 'string' ? jwt.split('.')[1] : null;
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '='));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function schedule(delay) {
  clearTimeout(timer);
  timer = setTimeout(() => {
    renew().catch((e) => {
      // The server could not be reached: try again soon, while there is a token to keep.
      if (e instanceof ApiError && e.status !== 401 && current) schedule(RETRY_MS);
    });
  }, Math.max(0, delay));
}

/** Keeps a token the server just handed out and plans its renewal. */
export function adopt(jwt) {
  const claims = decodeClaims(jwt);
  if (!claims || typeof claims.exp !== 'number') return false;
  const arrived = Date.now();
  const lifetime =
    typeof claims.iat === 'number' ? (claims.exp - claims.iat) * 1000 : claims.exp * 1000 - arrived;
  const margin = Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, lifetime / 4));
  current = { jwt, expiresAt: arrived + lifetime, renewAt: arrived + lifetime - margin };
  schedule(current.renewAt - arrived);
  return true;
}

/** Forgets the token (sign-in, sign-out, session end). */
export function clear() {
  generation += 1;
  current = null;
  pending = null;
  clearTimeout(timer);
}

/** Clears the token, tells the listeners, and returns the error callers should throw. */
export function sessionEnded() {
  clear();
  for (const fn of endedListeners) fn();
  return new ApiError({ status: 401, code: 'SESSION_ENDED', message: 'Session ended' });
}

/** Fetches a new token; concurrent callers share one request. */
export function renew() {
  if (pending) return pending;
  const gen = generation;
  const request = send('GET', '/api/auth/token').then(
    ({ data }) => {
      if (gen !== generation) throw new ApiError({ status: 0, code: 'SUPERSEDED' });
      if (!adopt(data?.token)) throw new ApiError({ status: 502, code: 'BAD_TOKEN' });
      return data.token;
    },
    (e) => {
      if (gen === generation && e instanceof ApiError && e.status === 401) throw sessionEnded();
      throw e;
    },
  );
  pending = request;
  const done = () => {
    if (pending === request) pending = null;
  };
  request.then(done, done);
  return request;
}

/** A token with at least the renewal margin left, renewing first when needed. */
export async function accessToken() {
  if (current && Date.now() < current.renewAt) return current.jwt;
  return renew();
}
