// One place that talks HTTP: JSON in and out, same-origin cookies, a bounded wait, and
// every failure turned into an ApiError carrying the server's `code`.

const TIMEOUT_MS = 15_000;

/** A failed call: `status` 0 means the server was not reached. */
export class ApiError extends Error {
  constructor({ status, code, message = '', retryAfter = null }) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** Seconds from `Retry-After` (or Better Auth's `X-Retry-After`): a number or an HTTP date. */
function retryAfterSeconds(headers) {
  const raw = headers.get('retry-after') ?? headers.get('x-retry-after');
  if (!raw) return null;
  const n = Number(raw);
  if (Number.isFinite(n)) return Math.max(1, Math.ceil(n));
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(1, Math.ceil((at - Date.now()) / 1000));
}

async function readBody(res) {
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) {
    await res.text().catch(() => '');
    return null;
  }
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/**
 * Sends a request. `body` is sent as JSON; `bearer` as `Authorization: Bearer …`.
 * Resolves to `{ data, headers, status }` for 2xx; rejects with an ApiError otherwise.
 */
export async function send(method, path, { body, bearer } = {}) {
  const headers = { Accept: 'application/json' };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  const init = {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    redirect: 'error',
    signal: controller.signal,
  };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  try {
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError({
        status: 0,
        code: controller.signal.aborted ? 'TIMEOUT' : 'NETWORK_ERROR',
        message: String(e?.message ?? e),
      });
    }
    const data = await readBody(res);
    if (!res.ok) {
      throw new ApiError({
        status: res.status,
        code: typeof data?.code === 'string' ? data.code : `HTTP_${res.status}`,
        message: typeof data?.message === 'string' ? data.message : '',
        retryAfter: retryAfterSeconds(res.headers),
      });
    }
    return { data, headers: res.headers, status: res.status };
  } finally {
    clearTimeout(timer);
  }
}
