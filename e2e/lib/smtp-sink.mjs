// A real SMTP server for the test suites (npm `smtp-server`), keeping every message it
// accepts, parsed as MIME (npm `mailparser`). It listens on 127.0.0.1 only.
//
// The suites each have their own node_modules, so this file imports neither package: each
// suite passes them in (see e2e/browser/lib/mail.js and e2e/interop/lib/mail.mjs).
//
//   const sink = await startSinkWith({ SMTPServer, simpleParser }, options);
//   const mail = await sink.next('ann@example.com', { linkTo: '/api/auth/verify-email' });
//   mail.subject, mail.text, mail.html, mail.links, mail.secure, mail.user
//   await sink.stop();
//
// Options:
//   port            listen here (default: a free port); used to start it again after a stop
//   tls             { key, cert }: offer STARTTLS with this certificate
//   auth            { user, pass }: require AUTH (PLAIN/LOGIN), only after STARTTLS when tls is set
//   refuse          (address) => boolean: recipients answered 550 (permanent failure)

const DEFAULT_WAIT_MS = 15_000;

/** Every http(s) URL in a text, in order, without trailing punctuation. */
export function linksIn(text) {
  return [...String(text ?? '').matchAll(/https?:\/\/[^\s<>"')\]]+/g)].map((m) => m[0].replace(/[.,;:!?]+$/, ''));
}

export async function startSinkWith({ SMTPServer, simpleParser }, { port = 0, tls = null, auth = null, refuse = null } = {}) {
  const messages = [];
  const waiters = new Set();
  const sessions = []; // every connection: { secure, user, refused }
  const refusedRecipients = [];

  const notify = () => {
    for (const w of [...waiters]) {
      const found = messages.find((m) => !w.seen.has(m) && w.match(m));
      if (found) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(found);
      }
    }
  };

  const server = new SMTPServer({
    name: 'sink.test',
    banner: 'Tessera test sink',
    logger: false,
    size: 10 * 1024 * 1024,
    ...(tls ? { key: tls.key, cert: tls.cert } : { disabledCommands: ['STARTTLS'] }),
    authOptional: !auth,
    authMethods: ['PLAIN', 'LOGIN'],
    // Without TLS, AUTH over plain text is allowed only when no TLS was configured.
    allowInsecureAuth: !tls,
    onConnect(session, callback) {
      sessions.push({ id: session.id, secure: false, user: null });
      callback();
    },
    onAuth(request, session, callback) {
      if (!auth || request.username !== auth.user || request.password !== auth.pass) {
        return callback(new Error('Invalid username or password'));
      }
      const s = sessions.find((x) => x.id === session.id);
      if (s) s.user = request.username;
      return callback(null, { user: request.username });
    },
    onRcptTo(address, session, callback) {
      if (refuse?.(address.address)) {
        refusedRecipients.push(address.address);
        const err = new Error('5.1.1 Mailbox unavailable');
        err.responseCode = 550;
        return callback(err);
      }
      return callback();
    },
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks);
        try {
          const parsed = await simpleParser(raw);
          const s = sessions.find((x) => x.id === session.id);
          if (s) s.secure = Boolean(session.secure);
          messages.push({
            raw: raw.toString('utf8'),
            parsed,
            envelope: {
              from: session.envelope.mailFrom?.address ?? null,
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            from: parsed.from?.text ?? '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            links: linksIn(parsed.text),
            secure: Boolean(session.secure),
            user: session.user ?? null,
            receivedAt: Date.now(),
          });
          callback();
          notify();
        } catch (e) {
          callback(e);
        }
      });
    },
  });
  server.on('error', () => {}); // connection-level errors are the client's problem

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.server.address().port;

  return {
    port: actualPort,
    host: '127.0.0.1',
    messages,
    sessions,
    refusedRecipients,
    /** The next message (not in `ignore`) for which `match` holds, waiting at most `timeoutMs`. */
    waitFor(match, { timeoutMs = DEFAULT_WAIT_MS, ignore = [] } = {}) {
      return new Promise((resolve, reject) => {
        const w = { match, resolve, seen: new Set(ignore) };
        w.timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no matching message within ${timeoutMs} ms; got ${messages.length}: ${messages.map((m) => `${m.to} «${m.subject}»`).join(', ')}`));
        }, timeoutMs);
        waiters.add(w);
        notify();
      });
    },
    /**
     * The next message to `address` arriving after this call (earlier ones are ignored);
     * `linkTo` keeps only messages with a link whose path starts with it, `match` only
     * those it holds for.
     */
    next(address, { linkTo, match = () => true, ...options } = {}) {
      const before = [...messages];
      const want = address.toLowerCase();
      const hasLink = (m) => !linkTo || m.links.some((l) => new URL(l).pathname.startsWith(linkTo));
      return this.waitFor((m) => m.to.includes(want) && hasLink(m) && match(m), { ...options, ignore: before });
    },
    /** Every message to `address` so far. */
    to(address) {
      const want = address.toLowerCase();
      return messages.filter((m) => m.to.includes(want));
    },
    stop() {
      for (const w of waiters) clearTimeout(w.timer);
      waiters.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
