// The SMTP sink of e2e/lib/smtp-sink.mjs with this suite's packages (smtp-server and
// mailparser), and Tessera started to deliver to it.

import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

import { linksIn, startSinkWith } from '../../lib/smtp-sink.mjs';
import { startTessera } from './server.js';

export { linksIn };

/**
 * The sender the tests configure. (The default, no-reply@<base URL host>, is not a valid
 * address when the base URL's host is an IP address, as here.)
 */
export const SENDER = 'Tessera <no-reply@tessera.test>';

/** Starts a sink on a free 127.0.0.1 port; see e2e/lib/smtp-sink.mjs for the options. */
export function startSink(options) {
  return startSinkWith({ SMTPServer, simpleParser }, options);
}

/**
 * A sink and a Tessera that sends mail to it (`--smtp-url smtp://127.0.0.1:<port>`).
 * `extraArgs` go to `tessera serve` too; the other options are startTessera's (`host`,
 * `postgres`). Resolves to { server, sink, stop }.
 */
export async function startWithMail({ extraArgs = [], ...options } = {}) {
  const sink = await startSink();
  let server;
  try {
    server = await startTessera({
      ...options,
      extraArgs: ['--smtp-url', `smtp://127.0.0.1:${sink.port}`, '--email-from', SENDER, ...extraArgs],
    });
  } catch (e) {
    await sink.stop();
    throw e;
  }
  return {
    server,
    sink,
    async stop() {
      await server.stop();
      await sink.stop();
    },
  };
}

/** The one link of a message that goes to `pathPrefix` on the server (e.g. '/api/auth/verify-email'). */
export function linkTo(mail, pathPrefix) {
  const found = mail.links.filter((l) => new URL(l).pathname.startsWith(pathPrefix));
  if (found.length === 0) throw new Error(`no link to ${pathPrefix} in «${mail.subject}»:\n${mail.text}`);
  return found[0];
}
