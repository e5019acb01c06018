// A real Better Auth 1.7 server with the passwordless plugins, for
// test/email-sign-in.test.mjs: magicLink and emailOTP (sign-up by link and code on, as in
// Tessera), and twoFactor with its email code (otpOptions.sendOTP), all
// mailing through nodemailer to the SMTP server on BA_SMTP_PORT (plain SMTP on 127.0.0.1),
// the way Tessera does with --smtp-url. Memory adapter; origin checks on, so callbackURLs
// are checked against the trusted origins as in production.
//
//   NODE_ENV=test BA_SMTP_PORT=<port> node lib/ba-email-sign-in-server.mjs [port]
//
// It prints one JSON line {"baseURL": ...} once it listens.

import http from 'node:http';

import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import { bearer, emailOTP, jwt, magicLink, twoFactor } from 'better-auth/plugins';
import nodemailer from 'nodemailer';

const port = Number(process.argv[2] || 0);
const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;

const transport = nodemailer.createTransport({
  host: '127.0.0.1',
  port: Number(process.env.BA_SMTP_PORT),
  secure: false,
  ignoreTLS: true,
});
const send = (to, subject, text) =>
  transport.sendMail({ from: 'Better Auth <no-reply@127.0.0.1>', to, subject, text: `${text}\n`, html: `<p>${text}</p>` });

const auth = betterAuth({
  baseURL,
  appName: 'Tessera',
  secret: 'better-auth-interop-secret-0123456789abcdef0123456789',
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [], twoFactor: [] }),
  emailAndPassword: { enabled: true },
  plugins: [
    jwt(),
    bearer(),
    magicLink({
      sendMagicLink: ({ email, url }) => send(email, 'Sign in', `Sign in: ${url}`),
    }),
    emailOTP({
      sendVerificationOTP: ({ email, otp, type }) => send(email, `Your ${type} code`, `Your code: ${otp}`),
    }),
    twoFactor({
      otpOptions: { sendOTP: ({ user, otp }) => send(user.email, 'Your security code', `Your code: ${otp}`) },
    }),
  ],
  logger: { disabled: true },
  advanced: { disableOriginCheck: false },
});

server.on('request', toNodeHandler(auth));
process.stdout.write(`${JSON.stringify({ baseURL })}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
