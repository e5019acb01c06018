// The real Better Auth client in Node, with what a browser would add: a cookie jar and an
// Origin header. Node's fetch keeps no cookies and sends `sec-fetch-mode: cors`, so without
// an explicit Origin Better Auth (and Tessera) refuse sign-in/up with MISSING_OR_NULL_ORIGIN.

import { createAuthClient } from 'better-auth/client';
import { jwtClient } from 'better-auth/client/plugins';

/** A minimal cookie jar for one host: name → value, honouring Max-Age=0 / empty values. */
export class CookieJar {
  constructor() {
    this.cookies = new Map();
  }

  /** Stores each `set-cookie` of a response. */
  store(setCookies) {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = attrs.some((a) => /^max-age=0$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(name) {
    return this.cookies.get(name);
  }
}

/**
 * A fetch that sends the jar's cookies and `Origin`, stores `set-cookie`, and records every
 * exchange (with the raw response text) so tests can assert on the wire, not only on what
 * the client parsed.
 */
export function jarFetch(jar, origin, exchanges) {
  return async (url, init = {}) => {
    const headers = new Headers(init.headers);
    const cookie = jar?.header();
    if (cookie) headers.set('cookie', cookie);
    if (origin) headers.set('origin', origin);
    const res = await fetch(url, { ...init, headers, signal: init.signal ?? AbortSignal.timeout(10000) });
    if (jar) jar.store(res.headers.getSetCookie());
    const text = await res.clone().text();
    exchanges?.push({ method: init.method ?? 'GET', url: String(url), status: res.status, headers: res.headers, text });
    return res;
  };
}

/**
 * `createAuthClient({ baseURL, plugins: [jwtClient(), ...plugins] })` with a jar and Origin. Pass
 * `origin: null` for a client that sends no Origin (what an unconfigured Node client does),
 * `jar: null` for a cookie-less client.
 */
export function makeClient(
  baseURL,
  { origin = new URL(baseURL).origin, jar = new CookieJar(), fetchOptions = {}, plugins = [] } = {},
) {
  const exchanges = [];
  const client = createAuthClient({
    baseURL,
    plugins: [jwtClient(), ...plugins],
    fetchOptions: { customFetchImpl: jarFetch(jar, origin, exchanges), ...fetchOptions },
  });
  return {
    client,
    jar,
    exchanges,
    /** The last exchange whose path ends with `suffix`. */
    last(suffix) {
      for (let i = exchanges.length - 1; i >= 0; i--) {
        if (new URL(exchanges[i].url).pathname.endsWith(suffix)) return exchanges[i];
      }
      throw new Error(`no request to ${suffix}`);
    },
  };
}
