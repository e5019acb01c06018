// The access token the tasks API wants: asked of Tessera (`authClient.token()`, which
// sends the session cookie), kept in memory only, and renewed before it expires.
"use client";

import { decodeJwt } from "jose";

import { authClient } from "./auth-client";

/** Tessera no longer has a session for this browser: signed out, revoked or expired. */
export class SessionEndedError extends Error {
  constructor() {
    super("Your session has ended");
    this.name = "SessionEndedError";
  }
}

export type AccessToken = {
  /** The compact JWT, sent as `Authorization: Bearer`. */
  token: string;
  /** The user it speaks for (`sub`): the `{user_id}` of the tasks API. */
  userId: string;
  /** Session id (`sid`), shown on the page. */
  sessionId: string;
  /** When it expires, in this browser's clock (ms). */
  expiresAt: number;
  /** When to ask for the next one (ms): before `expiresAt`, so no request carries a stale token. */
  renewAt: number;
};

let current: AccessToken | null = null;
let pending: Promise<AccessToken> | null = null;
const listeners = new Set<() => void>();

function publish(next: AccessToken | null) {
  current = next;
  listeners.forEach((listener) => listener());
}

async function requestToken(): Promise<AccessToken> {
  const { data, error } = await authClient.token();
  if (error) {
    if (error.status === 401) throw new SessionEndedError();
    throw new Error(error.message ?? `Tessera answered ${error.status} for an access token`);
  }
  const claims = decodeJwt(data.token);
  if (typeof claims.sub !== "string" || typeof claims.exp !== "number" || typeof claims.iat !== "number") {
    throw new Error("Tessera's access token lacks sub, iat or exp");
  }
  // Measure the lifetime from the token, but the moments in this browser's clock, so a
  // skewed clock cannot make us send an expired token.
  const lifetimeMs = (claims.exp - claims.iat) * 1000;
  const receivedAt = Date.now();
  return {
    token: data.token,
    userId: claims.sub,
    sessionId: typeof claims.sid === "string" ? claims.sid : "",
    expiresAt: receivedAt + lifetimeMs,
    // a quarter of its life before the end, at most a minute before (15 min → 14 min)
    renewAt: receivedAt + lifetimeMs - Math.min(60_000, lifetimeMs / 4),
  };
}

/**
 * A token that is good for a while yet: the one held unless it is due for renewal (or
 * `fresh` is asked), otherwise a new one from Tessera. Concurrent callers share one request.
 * Throws `SessionEndedError` when Tessera has no session any more.
 */
export function getAccessToken({ fresh = false }: { fresh?: boolean } = {}): Promise<AccessToken> {
  if (!fresh && current && Date.now() < current.renewAt) {
    return Promise.resolve(current);
  }
  pending ??= requestToken()
    .then((token) => {
      publish(token);
      return token;
    })
    .finally(() => {
      pending = null;
    });
  return pending;
}

/** Drops the held token (on sign-out, or when the backend refused it). */
export function forgetAccessToken() {
  publish(null);
}

/** For `useSyncExternalStore`: the held token, and a way to hear when it changes. */
export function subscribeAccessToken(listener: () => void) {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

export function currentAccessToken(): AccessToken | null {
  return current;
}
