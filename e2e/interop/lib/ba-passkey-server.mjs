// A real Better Auth 1.7 server with the passkey plugin (`@better-auth/passkey`), memory
// adapter, behind Node's http server on 127.0.0.1. Its public URL is argv[2] (the
// same-origin proxy the browser talks to, http://localhost:<port>), so the relying-party id
// is `localhost` (the plugin's default: the base URL's hostname) and the passkey origin is
// the request's Origin header (the plugin's fallback when `origin` is unset).
//
//   NODE_ENV=test node lib/ba-passkey-server.mjs http://localhost:<port>
//
// Prints one JSON line {"baseURL": ..., "port": ...} once it listens.

import http from 'node:http';

import { passkey } from '@better-auth/passkey';
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';

const publicURL = process.argv[2];
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const auth = betterAuth({
  baseURL: publicURL,
  trustedOrigins: [publicURL],
  appName: 'Tessera',
  secret: 'better-auth-interop-secret-0123456789abcdef0123456789',
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], passkey: [] }),
  emailAndPassword: { enabled: true },
  plugins: [passkey()],
  logger: { disabled: true },
});

server.on('request', toNodeHandler(auth));
process.stdout.write(`${JSON.stringify({ baseURL: publicURL, port: server.address().port })}\n`);
