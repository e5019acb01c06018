// Starts lib/ba-server.mjs (a real Better Auth server) as a child process.

import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ba-server.mjs');

/** Returns { baseURL, stop }. `env` adds variables (BA_SMTP_PORT…, see ba-server.mjs). */
export async function startBetterAuth({ timeoutMs = 20000, env = {} } = {}) {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, NODE_ENV: 'test', ...env },
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
    const { baseURL } = JSON.parse(first);
    return {
      baseURL,
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
