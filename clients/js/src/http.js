// `GET url` bounded in time and size, redirects not followed. Shared by the JWKS fetcher and
// the revocation feed. Web-standard `fetch` only (Node >= 20, edge runtimes).

import { ConfigError } from './errors.js';

export class FetchError extends Error {
  constructor(message, { status, body } = {}) {
    super(message);
    this.name = 'FetchError';
    this.status = status;
    this.body = body;
  }
}

export function checkUrl(url, what) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${what} must be an absolute http(s) URL`);
  }
  if (!['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname) {
    throw new ConfigError(`${what} must be an absolute http(s) URL`);
  }
  return parsed.toString();
}

async function readBounded(response, maxBytes) {
  const length = response.headers.get('content-length');
  if (length !== null && /^\d+$/.test(length) && Number(length) > maxBytes) {
    throw new FetchError(`response larger than ${maxBytes} bytes`);
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new FetchError(`response larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** The body of a 2xx answer; FetchError for anything else (non-2xx carry `status` and a bounded `body`). */
export async function getBounded(url, { maxBytes, timeoutMs, headers = {} }) {
  const signal = AbortSignal.timeout(timeoutMs);
  let response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json', ...headers }, redirect: 'manual', signal });
  } catch (e) {
    throw new FetchError(`request failed: ${e.message}`);
  }
  try {
    if (response.status < 200 || response.status > 299) {
      let body = new Uint8Array();
      try {
        body = await readBounded(response, maxBytes);
      } catch {
        // the status says enough
      }
      throw new FetchError(`unexpected status ${response.status}`, { status: response.status, body });
    }
    return await readBounded(response, maxBytes);
  } catch (e) {
    if (e instanceof FetchError) throw e;
    throw new FetchError(`reading failed: ${e.message}`);
  }
}
