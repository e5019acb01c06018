// The three processes of the example, as a deployment would run them: Tessera, the FastAPI
// backend (uvicorn) and the Next.js app (`next build`, then `next start`), each on its own
// free port of 127.0.0.1. Every wait is bounded; every process is stopped by its own pid.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { freePort, repoRoot, startTessera } from '../../interop/lib/tessera.mjs';

export { decodeJwt, freePort, repoRoot } from '../../interop/lib/tessera.mjs';

export const NEXT_DIR = path.join(repoRoot, 'examples/nextjs');
export const FASTAPI_DIR = path.join(repoRoot, 'examples/fastapi');
/** The venv run.sh made with the backend's requirements ($NEXTJS_E2E_PYTHON overrides). */
export const PYTHON = process.env.NEXTJS_E2E_PYTHON || path.join(repoRoot, 'e2e/nextjs/.venv/bin/python');

/**
 * Shared with the backend so it may read Tessera's revocation feed (Tessera and the Python
 * package read TESSERA_REVOCATIONS_SECRET; a Tessera without the option ignores it).
 */
export const REVOCATIONS_SECRET = 'nextjs-e2e-revocations-secret-0123456789abcdef';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a command to completion within `timeoutMs`; rejects with its output otherwise. */
export function run(cmd, args, { cwd, env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (d) => out.push(d.toString()));
    child.stderr.on('data', (d) => out.push(d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.join(''));
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code}) in ${cwd}:\n${out.join('')}`));
    });
  });
}

/** Starts a long-running process and waits (bounded) until `readyURL` answers 2xx. */
async function startService(name, cmd, args, { cwd, env, readyURL, timeoutMs = 30000 }) {
  const logs = [];
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited with ${child.exitCode} before it was ready:\n${logs.join('')}`);
    }
    try {
      const res = await fetch(readyURL, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { logs, stop };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await stop();
  throw new Error(`${name} did not answer ${readyURL} within ${timeoutMs} ms:\n${logs.join('')}`);
}

/**
 * Starts everything. `accessTokenTtl` is short so the test sees a renewal. Returns
 * { tessera, backendURL, frontendURL, logs(), stop() }.
 */
export async function startStack({ accessTokenTtl = '20s' } = {}) {
  const started = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
  };
  try {
    // The frontend's origin must be known first: Tessera trusts it, the backend allows it.
    const frontendPort = await freePort();
    const frontendURL = `http://127.0.0.1:${frontendPort}`;

    const tessera = await startTessera({
      args: ['--trusted-origins', frontendURL, '--access-token-ttl', accessTokenTtl],
      env: { TESSERA_REVOCATIONS_SECRET: REVOCATIONS_SECRET },
    });
    started.push(tessera);

    const backendPort = await freePort();
    const backendURL = `http://127.0.0.1:${backendPort}`;
    const backend = await startService(
      'FastAPI backend',
      PYTHON,
      ['-m', 'uvicorn', 'tasks_api.main:create_app', '--factory', '--host', '127.0.0.1', '--port', String(backendPort)],
      {
        cwd: FASTAPI_DIR,
        env: {
          TESSERA_URL: tessera.baseURL,
          TESSERA_JWKS_URL: `${tessera.baseURL}/api/auth/jwks`,
          TESSERA_REVOCATIONS_SECRET: REVOCATIONS_SECRET,
          CORS_ALLOW_ORIGINS: frontendURL,
        },
        // any answer from the app will do: 401 without a token means it is serving
        readyURL: `${backendURL}/openapi.json`,
      },
    );
    started.push(backend);

    // NEXT_PUBLIC_* are read at build time, so build now that the URLs are known.
    const nextEnv = {
      NEXT_TELEMETRY_DISABLED: '1',
      NEXT_PUBLIC_TESSERA_URL: tessera.baseURL,
      NEXT_PUBLIC_TASKS_API_URL: backendURL,
      // read at run time by the /api/me route handler's revocation feed
      TESSERA_REVOCATIONS_SECRET: REVOCATIONS_SECRET,
    };
    const nextBin = path.join(NEXT_DIR, 'node_modules/.bin/next');
    if (!fs.existsSync(nextBin)) throw new Error(`no ${nextBin}: run npm ci in examples/nextjs (run.sh does)`);
    const buildStarted = Date.now();
    await run(nextBin, ['build'], { cwd: NEXT_DIR, env: nextEnv, timeoutMs: 300000 });
    console.log(`# next build took ${((Date.now() - buildStarted) / 1000).toFixed(1)} s`);

    const frontend = await startService(
      'next start',
      nextBin,
      ['start', '--hostname', '127.0.0.1', '--port', String(frontendPort)],
      { cwd: NEXT_DIR, env: nextEnv, readyURL: `${frontendURL}/`, timeoutMs: 30000 },
    );
    started.push(frontend);

    return {
      tessera,
      backendURL,
      frontendURL,
      logs: () =>
        [
          `--- tessera\n${tessera.logs.join('')}`,
          `--- backend\n${backend.logs.join('')}`,
          `--- next\n${frontend.logs.join('')}`,
        ].join('\n'),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
