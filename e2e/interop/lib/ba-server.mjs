// A real Better Auth 1.7 server (memory adapter, email & password, jwt + bearer plugins,
// and the twoFactor plugin when BA_TWO_FACTOR=1) behind Node's http server on 127.0.0.1.
// Run as its own process:
//
//   NODE_ENV=test node lib/ba-server.mjs [port]
//
// It prints one JSON line {"baseURL": ...} once it listens. NODE_ENV=test switches off
// Better Auth's rate limiter and origin checks (read once, at import), which would
// otherwise get in the way of a test driving it from Node.

import http from 'node:http';

import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import { bearer, jwt, twoFactor } from 'better-auth/plugins';

const port = Number(process.argv[2] || 0);

const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;

const withTwoFactor = process.env.BA_TWO_FACTOR === '1';
const auth = betterAuth({
  baseURL,
  appName: 'Tessera',
  secret: 'better-auth-interop-secret-0123456789abcdef0123456789',
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [], twoFactor: [] }),
  emailAndPassword: { enabled: true },
  plugins: withTwoFactor ? [jwt(), bearer(), twoFactor()] : [jwt(), bearer()],
  logger: { disabled: true },
});

server.on('request', toNodeHandler(auth));
process.stdout.write(`${JSON.stringify({ baseURL })}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
