// Starts lib/ba-server.mjs (a real Better Auth server) as a child process.

import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Returns { baseURL, stop }. `script` is a server script in this directory (default
 * `ba-server.mjs`), `args` its arguments; `env` adds variables (BA_SMTP_PORT…, see
 * ba-server.mjs); `twoFactor: true` adds Better Auth's twoFactor plugin.
 */
export async function startBetterAuth({ timeoutMs = 20000, script = 'ba-server.mjs', args = [], env = {}, twoFactor = false } = {}) {
  const child = spawn(process.execPath, [path.join(here, script), ...args], {
    env: { ...process.env, NODE_ENV: 'test', BA_TWO_FACTOR: twoFactor ? '1' : '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  child.stderr.on('data', (d) => logs.push(d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  const lines = readline.createInterface({ input: child.stdout });
  let timer;
  try {
    const first = await Promise.race([
      new Promise((resolve) => lines.once('line', resolve)),
      exited.then((code) => Promise.reject(new Error(`better-auth server exited (${code}):\n${logs.join('')}`))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`better-auth server not up in ${timeoutMs} ms:\n${logs.join('')}`)), timeoutMs);
      }),
    ]);
    const { baseURL, port } = JSON.parse(first);
    return {
      baseURL,
      port,
      logs,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }
      },
    };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
