// Starts and stops Tessera servers for the interop suites: a free port on 127.0.0.1, a
// temporary SQLite database, TESSERA_SECRET set, and a bounded wait for /healthz.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');

/** The binary under test: $TESSERA_BIN, else the default cargo target dir's debug build. */
export const tesseraBin =
  process.env.TESSERA_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(repoRoot, 'target'), 'debug', 'tessera');

export const SERVER_SECRET = 'interop-server-secret-0123456789abcdef0123456789';
// The revocation feed's secret: every Tessera started here has it, so split roles follow
// the authenticated feed.
export const FEED_SECRET = 'interop-feed-secret-0123456789abcdef0123456789';
export const JWT_SECRET = 'interop-hs256-shared-secret-0123456789abcdef';

/** A port nobody listens on right now (the kernel's pick, released at once). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitHealthy(url, child, logs, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`tessera exited with ${child.exitCode} before it was ready:\n${logs.join('')}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`tessera did not answer ${url} within ${timeoutMs} ms:\n${logs.join('')}`);
}

/**
 * Starts `tessera serve` with `args` (after --bind and --database-url) and extra `env`.
 * Returns { baseURL, port, dir, databaseURL, logs, stop }.
 */
export async function startTessera({ args = [], env = {}, timeoutMs = 20000 } = {}) {
  if (!fs.existsSync(tesseraBin)) {
    throw new Error(`no tessera binary at ${tesseraBin}: build it (cargo build -p tessera-cli) or set TESSERA_BIN`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-interop-'));
  // A port can be taken between freePort() and bind; try a few.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const baseURL = `http://127.0.0.1:${port}`;
    const logs = [];
    const databaseURL = `sqlite://${dir}/tessera-${port}.db`;
    const child = spawn(
      tesseraBin,
      ['serve', '--bind', `127.0.0.1:${port}`, '--database-url', databaseURL, ...args],
      {
        env: { ...process.env, TESSERA_SECRET: SERVER_SECRET, TESSERA_REVOCATIONS_SECRET: FEED_SECRET, RUST_LOG: 'warn', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (d) => logs.push(d.toString()));
    child.stderr.on('data', (d) => logs.push(d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
        if (!done) {
          child.kill('SIGKILL');
          await exited;
        }
      }
    };
    try {
      await waitHealthy(`${baseURL}/healthz`, child, logs, timeoutMs);
      return {
        baseURL,
        port,
        dir,
        databaseURL,
        logs,
        stop: async () => {
          await stop();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (e) {
      await stop();
      if (attempt < 2 && /Address already in use|cannot listen/i.test(logs.join(''))) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }
}

/** Decodes a compact JWS without verifying it: { header, payload }. */
export function decodeJwt(token) {
  const [h, p] = token.split('.');
  const dec = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: dec(h), payload: dec(p) };
}

/** ISO-8601 UTC with milliseconds, as Better Auth writes timestamps. */
export const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A unique e-mail address for this run. */
let counter = 0;
export function uniqueEmail(tag = 'user') {
  counter += 1;
  return `${tag}-${process.pid}-${Date.now()}-${counter}@example.com`;
}

/** Signs up over plain HTTP and returns { user, token, cookie, setAuthToken }. */
export async function signUpRaw(baseURL, { name = 'Interop', email = uniqueEmail(), password = 'correct horse battery' } = {}) {
  const res = await fetch(`${baseURL}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: new URL(baseURL).origin },
    body: JSON.stringify({ name, email, password }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(body)}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { user: body.user, token: body.token, cookie, setAuthToken: res.headers.get('set-auth-token'), email, password };
}

/** GET /api/auth/token with a Bearer session token; returns the JWT. */
export async function accessToken(baseURL, sessionToken) {
  const res = await fetch(`${baseURL}/api/auth/token`, { headers: { authorization: `Bearer ${sessionToken}` } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`token failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}
