// Starts a real `tessera serve` for one test file: a free port on 127.0.0.1, a fresh
// SQLite database in a temporary directory, a fixed secret, and the base URL the browser
// will use (the server checks the browser's Origin against it). `stop()` ends it.

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '../../..');

/** The binary under test: $TESSERA_BIN, else target/debug/tessera of this repository. */
export const TESSERA_BIN = process.env.TESSERA_BIN
  ? resolve(process.env.TESSERA_BIN)
  : join(REPO_ROOT, 'target/debug/tessera');

const STARTUP_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitHealthy(baseUrl, child, logs) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`tessera exited with ${child.exitCode} during start-up:\n${logs.join('')}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`tessera did not answer /healthz within ${STARTUP_TIMEOUT_MS} ms:\n${logs.join('')}`);
}

/** The PostgreSQL server the suites use (trust auth); its `test` database is only the way in. */
const POSTGRES_URL = process.env.TESSERA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `sql` through psql on POSTGRES_URL. */
function psql(sql) {
  execFileSync('psql', [POSTGRES_URL, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

/** A new, empty PostgreSQL database: { url, drop() }. */
function freshPostgresDatabase() {
  const name = `tessera_e2e_${randomBytes(6).toString('hex')}`;
  psql(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * Starts the server. `extraArgs` are appended to `tessera serve` (e.g.
 * ['--access-token-ttl', '10s']). `host` names the base URL's host (passkeys need a domain:
 * 'localhost'; the server listens on 127.0.0.1 either way). `postgres`: on a new database of
 * the PostgreSQL server at $TESSERA_TEST_POSTGRES_URL (dropped at `stop()`) instead of a new
 * SQLite file. Resolves to { baseUrl, logs, stop }.
 */
export async function startTessera({ extraArgs = [], host = '127.0.0.1', postgres = false } = {}) {
  if (!existsSync(TESSERA_BIN)) {
    throw new Error(
      `no tessera binary at ${TESSERA_BIN}: build it with \`cargo build -p tessera-cli\` or set TESSERA_BIN`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'tessera-e2e-'));
  const pg = postgres ? freshPostgresDatabase() : null;
  // A port can be taken between our probe and the server's bind; try a few.
  let lastError;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const baseUrl = `http://${host}:${port}`;
    const logs = [];
    const child = spawn(
      TESSERA_BIN,
      [
        'serve',
        '--bind', `127.0.0.1:${port}`,
        '--base-url', baseUrl,
        '--database-url', pg ? pg.url : `sqlite://${join(dir, `tessera-${attempt}.db`)}`,
        ...extraArgs,
      ],
      {
        env: {
          ...process.env,
          TESSERA_SECRET: 'e2e-browser-secret-0123456789abcdef0123456789',
          RUST_LOG: process.env.RUST_LOG ?? 'warn',
          NO_COLOR: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (d) => logs.push(d.toString()));
    child.stderr.on('data', (d) => logs.push(d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitHealthy(`http://127.0.0.1:${port}`, child, logs);
    } catch (e) {
      lastError = e;
      child.kill('SIGKILL');
      await exited;
      continue;
    }
    const stop = async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
      pg?.drop();
    };
    return { baseUrl, logs, stop };
  }
  await rm(dir, { recursive: true, force: true });
  pg?.drop();
  throw lastError;
}

/** Creates an account straight through the API (faster than the UI for set-up). */
export async function createUser(baseUrl, { name, email, password }) {
  const res = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: baseUrl },
    body: JSON.stringify({ name, email, password }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`sign-up of ${email} failed: ${res.status} ${await res.text()}`);
  return (await res.json()).user;
}
