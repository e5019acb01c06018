// A real Better Auth 1.7 server configured with an OpenID Connect provider by discovery
// (the genericOAuth plugin, which Better Auth 1.7's client reaches through signIn.social),
// as the interop suite configures Tessera's `[providers.test-oidc]`:
//
//   NODE_ENV=test node lib/ba-social-server.mjs <port> <issuer> <client id> <client secret>
//
// It prints one JSON line {"baseURL": ...} once it listens.

import http from 'node:http';

import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import { genericOAuth } from 'better-auth/plugins';

const [port, issuer, clientId, clientSecret] = process.argv.slice(2);

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(port), '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;

const auth = betterAuth({
  baseURL,
  secret: 'better-auth-interop-secret-0123456789abcdef0123456789',
  database: memoryAdapter({ user: [], session: [], account: [], verification: [] }),
  emailAndPassword: { enabled: true },
  account: { accountLinking: { enabled: true } },
  plugins: [
    genericOAuth({
      config: [
        {
          providerId: 'test-oidc',
          discoveryUrl: `${issuer}/.well-known/openid-configuration`,
          clientId,
          clientSecret,
          pkce: true,
          scopes: ['openid', 'email', 'profile'],
        },
      ],
    }),
  ],
  logger: { disabled: true },
});

server.on('request', toNodeHandler(auth));
process.stdout.write(`${JSON.stringify({ baseURL })}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
