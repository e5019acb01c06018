// A real Better Auth 1.7 server (memory adapter, email & password, jwt + bearer plugins)
// behind Node's http server on 127.0.0.1. Run as its own process:
//
//   NODE_ENV=test node lib/ba-server.mjs [port]
//
// It prints one JSON line {"baseURL": ...} once it listens. NODE_ENV=test switches off
// Better Auth's rate limiter and origin checks (read once, at import), which would
// otherwise get in the way of a test driving it from Node.
//
// With BA_SMTP_PORT set, it sends mail (nodemailer, plain SMTP to 127.0.0.1:<port>) the way
// Tessera does with --smtp-url: email verification (sendOnSignIn), password reset (sessions
// revoked on reset, as Tessera always does) and change of address confirmed with the old
// address (user.changeEmail.sendChangeEmailConfirmation). Origin checks are then switched
// back on (advanced.disableOriginCheck: false), so callbackURL and redirectTo are checked
// against the trusted origins as in production. BA_REQUIRE_EMAIL_VERIFICATION=1 turns on
// emailAndPassword.requireEmailVerification.

import http from 'node:http';

import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import { bearer, jwt } from 'better-auth/plugins';
import nodemailer from 'nodemailer';

const port = Number(process.argv[2] || 0);

const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;

const auth = betterAuth({
  baseURL,
  secret: 'better-auth-interop-secret-0123456789abcdef0123456789',
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
  emailAndPassword: { enabled: true },
  plugins: [jwt(), bearer()],
  logger: { disabled: true },
  ...emailOptions(),
});

/** The email configuration, when BA_SMTP_PORT names the SMTP server to send to. */
function emailOptions() {
  const smtpPort = Number(process.env.BA_SMTP_PORT || 0);
  if (!smtpPort) return {};
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
  const send = (to, subject, url) =>
    transport.sendMail({
      from: 'Better Auth <no-reply@127.0.0.1>',
      to,
      subject,
      text: `${subject}: ${url}\n`,
      html: `<p><a href="${url}">${subject}</a></p>`,
    });
  return {
    emailAndPassword: {
      enabled: true,
      requireEmailVerification: process.env.BA_REQUIRE_EMAIL_VERIFICATION === '1',
      revokeSessionsOnPasswordReset: true,
      sendResetPassword: ({ user, url }) => send(user.email, 'Reset your password', url),
    },
    emailVerification: {
      sendOnSignIn: true,
      sendVerificationEmail: ({ user, url }) => send(user.email, 'Verify your email address', url),
    },
    user: {
      changeEmail: {
        enabled: true,
        sendChangeEmailConfirmation: ({ user, url }) => send(user.email, 'Approve the change of your email address', url),
      },
    },
    advanced: { disableOriginCheck: false },
  };
}

server.on('request', toNodeHandler(auth));
process.stdout.write(`${JSON.stringify({ baseURL })}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
