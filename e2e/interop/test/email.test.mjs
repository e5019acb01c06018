// Email through the unmodified Better Auth client (sendVerificationEmail, verifyEmail,
// requestPasswordReset, resetPassword, changeEmail, and the older forgetPassword), against
// Tessera and — the same script — against a real Better Auth 1.7 server sending through
// nodemailer (lib/ba-server.mjs). Both deliver to a real SMTP server started here
// (e2e/lib/smtp-sink.mjs); every flow reads the message as received, parses the MIME, and
// follows the link it carries.
//
// Each step of the script records what the wire said (status, JSON keys and codes,
// redirect target, whether a cookie was set). The last test of each script compares the
// two servers: every difference must be one of KNOWN_DIFFERENCES, each of which is
// explained in docs/better-auth-differences.md (section "Email"), and each known
// difference must still be there (so the list and the document stay true).
//
// Then what only Tessera promises: STARTTLS with AUTH, SMTP down during a request, a
// permanently refused recipient in /metrics, links built from the base URL whatever the
// Host header says.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startBetterAuth } from '../lib/better-auth.mjs';
import { makeClient } from '../lib/client.mjs';
import { startSink, testCertificates } from '../lib/mail.mjs';
import { freePort, repoRoot, startTessera, uniqueEmail } from '../lib/tessera.mjs';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'staple battery horse correct';
const HOSTILE = ['https://evil.example/x', 'javascript:alert(1)', '//evil.example/x'];

/**
 * `tessera serve` arguments that send mail to `smtpUrl`, from a sender with a domain (the
 * default, no-reply@<base URL host>, is no valid address when the host is an IP address, as
 * in these tests; see the last test).
 */
const mailArgs = (smtpUrl, ...more) => ['--smtp-url', smtpUrl, '--email-from', 'Tessera <no-reply@tessera.test>', ...more];

/**
 * Steps where Tessera deliberately answers differently from Better Auth 1.7, with the
 * reason. docs/better-auth-differences.md explains each under the same step name.
 */
const KNOWN_DIFFERENCES = {
  'verify-email: the same link again': 'tokens are single use (Better Auth: a JWT valid until it expires)',
  'forget-password (pre-1.4 client alias)': 'Tessera keeps the alias; Better Auth 1.7 has no such route (404)',
  'change-email: the same address': 'Tessera’s 400 carries a code, EMAIL_IS_THE_SAME (Better Auth: a message only)',
  'change-email: following the link to the new address':
    'verify-email never sets a cookie in Tessera (Better Auth re-sets the session cookie of the browser that clicks)',
};

/**
 * Differences Tessera should not have, reported to the lead with both answers: until the
 * server is changed, the comparison lets them through, and the test “no difference is
 * waiting for a server fix” (skipped until then) says they must go.
 */
const PENDING_SERVER_FIXES = Object.fromEntries(
  HOSTILE.map((t) => [
    `request-password-reset: redirectTo ${t}`,
    'Better Auth: 403 {"code":"INVALID_REDIRECT_URL","message":"Invalid redirectURL"}; Tessera: 403 {"code":"INVALID_CALLBACK_URL","message":"Invalid callbackURL"}',
  ]),
);

/** Differences of the require-email-verification script. */
const KNOWN_DIFFERENCES_REQUIRED = {
  'verify-email: the link': 'without a callbackURL, Tessera’s links lead to its own /verify-email page (Better Auth: /)',
};

const DOC = path.join(repoRoot, 'docs/better-auth-differences.md');


// --- recording the wire -------------------------------------------------------------------

/**
 * The shape of a JSON body: its keys and the type of each value, with `code`, `message`
 * and `status` kept literally. Nested objects count as 'object' (the user object's own
 * shape is the client suite's business, test/client.test.mjs).
 */
function shape(value) {
  const type = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (type(value) !== 'object') return type(value);
  const out = {};
  for (const k of Object.keys(value).sort()) {
    out[k] = k === 'code' || k === 'message' || k === 'status' ? value[k] : type(value[k]);
  }
  return out;
}

/** A Location with the server's origin and the token values replaced by placeholders. */
function normaliseLocation(location, baseURL) {
  if (!location) return null;
  const origin = new URL(baseURL).origin;
  return location
    .split(origin)
    .join('<origin>')
    .replace(/token=[^&]+/g, 'token=<token>');
}

/** What a raw fetch answer says, in comparable form. */
async function record(res, baseURL) {
  const text = await res.text();
  let body = null;
  try {
    body = text ? shape(JSON.parse(text)) : null;
  } catch {
    body = 'not json';
  }
  return {
    status: res.status,
    body: res.status >= 300 && res.status < 400 ? null : body,
    location: normaliseLocation(res.headers.get('location'), baseURL),
    setsSessionCookie: res.headers.getSetCookie().some((c) => /session_token=[^;]/.test(c)),
  };
}

/** The last exchange of a Better Auth client, in the same form. */
function recordClient(c, suffix, baseURL) {
  const x = c.last(suffix);
  let body = null;
  try {
    body = x.text ? shape(JSON.parse(x.text)) : null;
  } catch {
    body = 'not json';
  }
  return {
    status: x.status,
    body,
    location: normaliseLocation(x.headers.get('location'), baseURL),
    setsSessionCookie: x.headers.getSetCookie().some((c2) => /session_token=[^;]/.test(c2)),
  };
}

/** GET a link without following redirects and without cookies (a mail client's click). */
function click(url, init = {}) {
  return fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000), ...init });
}

/** Options for sink.next(): a link to `pathPrefix` whose callbackURL is `callbackURL`. */
function withLink(pathPrefix, callbackURL) {
  return {
    linkTo: pathPrefix,
    match: (m) => callbackURL === undefined || m.links.some((l) => new URL(l).searchParams.get('callbackURL') === callbackURL),
  };
}

/** The link of a message to `pathPrefix` under the server's /api/auth. */
function linkIn(mail, pathPrefix) {
  const found = mail.links.filter((l) => new URL(l).pathname.startsWith(pathPrefix));
  assert.ok(found.length > 0, `no link to ${pathPrefix} in «${mail.subject}»: ${mail.text}`);
  return found[0];
}

/** A link's shape: its path with the token replaced, its query keys, its callbackURL. */
function linkShape(link, baseURL) {
  const u = new URL(link);
  return {
    origin: u.origin === new URL(baseURL).origin ? '<origin>' : u.origin,
    path: u.pathname.replace(/\/reset-password\/[^/]+$/, '/reset-password/<token>'),
    query: [...u.searchParams.keys()].sort(),
    callbackURL: normaliseLocation(u.searchParams.get('callbackURL'), baseURL),
  };
}

/** Compares two recordings; returns the names of the steps that differ, with both sides. */
function differences(a, b) {
  const out = {};
  for (const step of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[step]) !== JSON.stringify(b[step])) out[step] = { tessera: a[step], betterAuth: b[step] };
  }
  return out;
}

function assertKnown(diff, known) {
  const unexplained = Object.fromEntries(Object.entries(diff).filter(([step]) => !(step in known)));
  assert.deepEqual(unexplained, {}, `differences from Better Auth 1.7 not in KNOWN_DIFFERENCES:\n${JSON.stringify(unexplained, null, 2)}`);
  for (const step of Object.keys(known)) {
    assert.ok(step in diff, `“${step}” is listed as a difference but both servers now agree: remove it (and its paragraph)`);
  }
  const doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '';
  const email = doc.split(/^## /m).find((s) => s.startsWith('Email')) ?? '';
  for (const step of Object.keys(known)) {
    assert.ok(email.includes(step), `docs/better-auth-differences.md, section Email, does not explain “${step}”`);
  }
}

// --- the script: the same calls against either server ------------------------------------

/**
 * Verification, reset and change of address through the Better Auth client. `server` is
 * { baseURL }; mail arrives at `sink`. Asserts what both servers must do; returns the
 * recording.
 */
async function emailScript({ baseURL }, sink) {
  const rec = {};
  const origin = new URL(baseURL).origin;
  const email = uniqueEmail('mail');
  const alice = makeClient(baseURL);

  // --- verification -----------------------------------------------------------------
  const up = await alice.client.signUp.email({ email, password: PASSWORD, name: 'Mail Interop' });
  assert.equal(up.error, null, JSON.stringify(up.error));
  assert.equal(up.data.user.emailVerified, false);

  // (Tessera also mails a link at sign-up, leading to its own /verify-email page: wait for
  // the one asked for here.)
  let arrives = sink.next(email, withLink('/api/auth/verify-email', '/verified'));
  const sent = await alice.client.sendVerificationEmail({ email, callbackURL: '/verified' });
  assert.equal(sent.error, null, JSON.stringify(sent.error));
  assert.deepEqual(sent.data, { status: true });
  rec['send-verification-email'] = recordClient(alice, '/send-verification-email', baseURL);
  const verifyMail = await arrives;
  assert.ok(verifyMail.text.length > 0, 'a text part');
  const verifyLink = linkIn(verifyMail, '/api/auth/verify-email');
  rec['verification mail: the link'] = linkShape(verifyLink, baseURL);
  const token = new URL(verifyLink).searchParams.get('token');
  assert.ok(token && token.length >= 22, 'a token of at least 128 bits');

  const clicked = await click(verifyLink);
  rec['verify-email: the link'] = await record(clicked, baseURL);
  assert.equal(clicked.status, 302);
  assert.equal(new URL(clicked.headers.get('location'), baseURL).pathname, '/verified');
  const after1 = await alice.client.getSession();
  assert.equal(after1.data.user.emailVerified, true, 'the address is verified');

  const again = await alice.client.verifyEmail({ query: { token } });
  rec['verify-email: the same link again'] = recordClient(alice, '/verify-email', baseURL);
  void again;

  const forged = await alice.client.verifyEmail({ query: { token: 'forged.token.value' } });
  assert.equal(forged.error?.status, 401);
  assert.equal(forged.error?.code, 'INVALID_TOKEN');
  rec['verify-email: a forged token'] = recordClient(alice, '/verify-email', baseURL);
  rec['verify-email: a forged token, with callbackURL'] = await record(
    await click(`${baseURL}/api/auth/verify-email?token=forged&callbackURL=${encodeURIComponent('/verified')}`),
    baseURL,
  );

  const verifiedAlready = await alice.client.sendVerificationEmail({ email });
  assert.equal(verifiedAlready.error?.code, 'EMAIL_ALREADY_VERIFIED');
  rec['send-verification-email: already verified'] = recordClient(alice, '/send-verification-email', baseURL);
  const mismatch = await alice.client.sendVerificationEmail({ email: uniqueEmail('other') });
  assert.equal(mismatch.error?.code, 'EMAIL_MISMATCH');
  rec['send-verification-email: not the session’s address'] = recordClient(alice, '/send-verification-email', baseURL);
  const anon = makeClient(baseURL);
  const unknown = await anon.client.sendVerificationEmail({ email: uniqueEmail('nobody') });
  assert.deepEqual(unknown.data, { status: true });
  rec['send-verification-email: anonymous, unknown address'] = recordClient(anon, '/send-verification-email', baseURL);

  // --- password reset ---------------------------------------------------------------
  const redirectTo = `${origin}/reset`;
  arrives = sink.next(email, { linkTo: '/api/auth/reset-password/' });
  const asked = await anon.client.requestPasswordReset({ email, redirectTo });
  assert.equal(asked.error, null, JSON.stringify(asked.error));
  rec['request-password-reset'] = recordClient(anon, '/request-password-reset', baseURL);
  const knownText = anon.last('/request-password-reset').text;
  await anon.client.requestPasswordReset({ email: uniqueEmail('nobody'), redirectTo });
  rec['request-password-reset: unknown address'] = recordClient(anon, '/request-password-reset', baseURL);
  assert.equal(anon.last('/request-password-reset').text, knownText, 'known and unknown addresses get the same bytes');

  const resetMail = await arrives;
  const resetLink = linkIn(resetMail, '/api/auth/reset-password/');
  rec['reset mail: the link'] = linkShape(resetLink, baseURL);
  const resetToken = decodeURIComponent(new URL(resetLink).pathname.split('/').pop());
  const landing = await click(resetLink);
  rec['reset-password/{token}: the link'] = await record(landing, baseURL);
  assert.equal(landing.status, 302);
  const landed = new URL(landing.headers.get('location'), baseURL);
  assert.equal(`${landed.origin}${landed.pathname}`, redirectTo);
  assert.equal(landed.searchParams.get('token'), resetToken);
  rec['reset-password/{token}: a forged token'] = await record(
    await click(`${baseURL}/api/auth/reset-password/forged-token?callbackURL=${encodeURIComponent(redirectTo)}`),
    baseURL,
  );

  const short = await anon.client.resetPassword({ newPassword: 'short', token: resetToken });
  assert.equal(short.error?.code, 'PASSWORD_TOO_SHORT');
  rec['reset-password: too short'] = recordClient(anon, '/reset-password', baseURL);
  const reset = await anon.client.resetPassword({ newPassword: NEW_PASSWORD, token: resetToken });
  assert.equal(reset.error, null, JSON.stringify(reset.error));
  assert.deepEqual(reset.data, { status: true });
  rec['reset-password'] = recordClient(anon, '/reset-password', baseURL);
  const ended = await alice.client.getSession();
  assert.equal(ended.data, null, 'the reset ended the old session');
  const reused = await anon.client.resetPassword({ newPassword: `${NEW_PASSWORD} 2`, token: resetToken });
  assert.equal(reused.error?.code, 'INVALID_TOKEN');
  rec['reset-password: the same token again'] = recordClient(anon, '/reset-password', baseURL);
  const oldPassword = await makeClient(baseURL).client.signIn.email({ email, password: PASSWORD });
  assert.equal(oldPassword.error?.status, 401);

  const legacy = makeClient(baseURL);
  await legacy.client.forgetPassword({ email, redirectTo });
  rec['forget-password (pre-1.4 client alias)'] = recordClient(legacy, '/forget-password', baseURL);

  // --- change of address ------------------------------------------------------------
  const bob = makeClient(baseURL);
  const signedIn = await bob.client.signIn.email({ email, password: NEW_PASSWORD });
  assert.equal(signedIn.error, null, JSON.stringify(signedIn.error));
  const same = await bob.client.changeEmail({ newEmail: email, password: NEW_PASSWORD });
  rec['change-email: the same address'] = recordClient(bob, '/change-email', baseURL);
  assert.equal(same.error?.status, 400);

  const newEmail = uniqueEmail('moved');
  const toOld = sink.next(email, withLink('/api/auth/verify-email', '/changed'));
  const changed = await bob.client.changeEmail({ newEmail, callbackURL: '/changed', password: NEW_PASSWORD });
  assert.equal(changed.error, null, JSON.stringify(changed.error));
  rec['change-email'] = recordClient(bob, '/change-email', baseURL);
  const confirmMail = await toOld;
  const confirmLink = linkIn(confirmMail, '/api/auth/verify-email');
  rec['change-email: the link to the old address'] = linkShape(confirmLink, baseURL);
  const toNew = sink.next(newEmail, withLink('/api/auth/verify-email', '/changed'));
  const confirmed = await click(confirmLink);
  rec['change-email: following the link to the old address'] = await record(confirmed, baseURL);
  const newMail = await toNew;
  const newLink = linkIn(newMail, '/api/auth/verify-email');
  rec['change-email: the link to the new address'] = linkShape(newLink, baseURL);
  const done = await click(newLink, { headers: { cookie: bob.jar.header() } });
  rec['change-email: following the link to the new address'] = await record(done, baseURL);
  const now = await bob.client.getSession();
  assert.equal(now.data?.user.email, newEmail, 'the address is changed');
  assert.equal(now.data?.user.emailVerified, true, 'and verified');

  // An address another account has: the same answer as a free one (no enumeration).
  const carol = makeClient(baseURL);
  const carolEmail = uniqueEmail('carol');
  await carol.client.signUp.email({ email: carolEmail, password: PASSWORD, name: 'Carol' });
  await bob.client.changeEmail({ newEmail: carolEmail, password: NEW_PASSWORD });
  rec['change-email: an address another account has'] = recordClient(bob, '/change-email', baseURL);
  const still = await bob.client.getSession();
  assert.equal(still.data?.user.email, newEmail, 'nothing changed');

  // --- hostile redirect targets -----------------------------------------------------
  for (const target of HOSTILE) {
    const h = makeClient(baseURL);
    await h.client.sendVerificationEmail({ email: uniqueEmail('h'), callbackURL: target });
    rec[`send-verification-email: callbackURL ${target}`] = recordClient(h, '/send-verification-email', baseURL);
    await h.client.requestPasswordReset({ email, redirectTo: target });
    rec[`request-password-reset: redirectTo ${target}`] = recordClient(h, '/request-password-reset', baseURL);
    rec[`verify-email: callbackURL ${target}`] = await record(
      await click(`${baseURL}/api/auth/verify-email?token=forged&callbackURL=${encodeURIComponent(target)}`),
      baseURL,
    );
    rec[`reset-password/{token}: callbackURL ${target}`] = await record(
      await click(`${baseURL}/api/auth/reset-password/forged?callbackURL=${encodeURIComponent(target)}`),
      baseURL,
    );
    await bob.client.changeEmail({ newEmail: uniqueEmail('h2'), callbackURL: target, password: NEW_PASSWORD });
    rec[`change-email: callbackURL ${target}`] = recordClient(bob, '/change-email', baseURL);
  }
  return rec;
}

/** Sign-up and sign-in when the address must be verified first. */
async function requiredScript({ baseURL }, sink) {
  const rec = {};
  const email = uniqueEmail('required');
  const c = makeClient(baseURL);
  let arrives = sink.next(email, { linkTo: '/api/auth/verify-email' });
  const up = await c.client.signUp.email({ email, password: PASSWORD, name: 'Required' });
  assert.equal(up.error, null, JSON.stringify(up.error));
  assert.equal(up.data.token, null, 'no session at sign-up');
  rec['sign-up'] = recordClient(c, '/sign-up/email', baseURL);
  const first = await arrives;
  linkIn(first, '/api/auth/verify-email');

  arrives = sink.next(email, { linkTo: '/api/auth/verify-email' });
  const refused = await c.client.signIn.email({ email, password: PASSWORD });
  assert.equal(refused.error?.status, 403);
  assert.equal(refused.error?.code, 'EMAIL_NOT_VERIFIED');
  rec['sign-in: unverified'] = recordClient(c, '/sign-in/email', baseURL);
  const resent = await arrives;
  const link = linkIn(resent, '/api/auth/verify-email');
  const wrong = await c.client.signIn.email({ email, password: 'not the password' });
  rec['sign-in: unverified, wrong password'] = recordClient(c, '/sign-in/email', baseURL);
  void wrong;

  rec['verify-email: the link'] = await record(await click(link), baseURL);
  const ok = await c.client.signIn.email({ email, password: PASSWORD });
  assert.equal(ok.error, null, JSON.stringify(ok.error));
  assert.equal(ok.data.user.emailVerified, true);
  rec['sign-in: verified'] = recordClient(c, '/sign-in/email', baseURL);
  return rec;
}

// --- the runs ---------------------------------------------------------------------------

describe('email through the Better Auth client: Tessera and Better Auth 1.7, the same script', () => {
  let sink;
  let tessera;
  let betterAuth;
  const recordings = {};

  before(async () => {
    sink = await startSink();
    // Rate limits off on both (Better Auth's are off under NODE_ENV=test): the script sends
    // more mail from one address than Tessera's per-IP limits allow, and a 429 would hide
    // the answer under test. Tessera's limits have their own tests (tests/api).
    tessera = await startTessera({ args: mailArgs(`smtp://127.0.0.1:${sink.port}`, '--rate-limits', 'off') });
    betterAuth = await startBetterAuth({ env: { BA_SMTP_PORT: String(sink.port) } });
  });

  after(async () => {
    await tessera?.stop();
    await betterAuth?.stop();
    await sink?.stop();
  });

  it('Better Auth 1.7 passes the script (the reference)', async () => {
    recordings.betterAuth = await emailScript(betterAuth, sink);
  });

  it('Tessera passes the script', async () => {
    recordings.tessera = await emailScript(tessera, sink);
  });

  it('Tessera refuses every hostile redirect target with a 4xx and never redirects to it', () => {
    const rec = recordings.tessera;
    assert.ok(rec, 'the Tessera run did not finish');
    for (const [step, r] of Object.entries(rec).filter(([s]) => HOSTILE.some((t) => s.endsWith(t)))) {
      assert.ok(r.status >= 400 && r.status < 500, `${step}: ${r.status}`);
      assert.equal(r.location, null, `${step} redirected to ${r.location}`);
    }
  });

  it('every difference from Better Auth is known and documented', () => {
    assert.ok(recordings.tessera && recordings.betterAuth, 'a run did not finish');
    const diff = differences(recordings.tessera, recordings.betterAuth);
    for (const step of Object.keys(PENDING_SERVER_FIXES)) delete diff[step];
    assertKnown(diff, KNOWN_DIFFERENCES);
  });

  it('no difference is waiting for a server fix', { skip: 'needs the server fix: request-password-reset must answer INVALID_REDIRECT_URL for a bad redirectTo' }, () => {
    const diff = differences(recordings.tessera, recordings.betterAuth);
    const pending = Object.keys(PENDING_SERVER_FIXES).filter((step) => step in diff);
    assert.deepEqual(pending, []);
  });
});

describe('--require-email-verification and Better Auth’s requireEmailVerification, the same script', () => {
  let sink;
  let tessera;
  let betterAuth;
  const recordings = {};

  before(async () => {
    sink = await startSink();
    tessera = await startTessera({ args: mailArgs(`smtp://127.0.0.1:${sink.port}`, '--require-email-verification', '--rate-limits', 'off') });
    betterAuth = await startBetterAuth({ env: { BA_SMTP_PORT: String(sink.port), BA_REQUIRE_EMAIL_VERIFICATION: '1' } });
  });

  after(async () => {
    await tessera?.stop();
    await betterAuth?.stop();
    await sink?.stop();
  });

  it('Better Auth 1.7 passes the script', async () => {
    recordings.betterAuth = await requiredScript(betterAuth, sink);
  });

  it('Tessera passes the script', async () => {
    recordings.tessera = await requiredScript(tessera, sink);
  });

  it('every difference from Better Auth is known and documented', () => {
    assert.ok(recordings.tessera && recordings.betterAuth, 'a run did not finish');
    assertKnown(differences(recordings.tessera, recordings.betterAuth), KNOWN_DIFFERENCES_REQUIRED);
  });
});

// --- what only Tessera promises ------------------------------------------------------------

/** Sends a verification link to a fresh account through the raw API; returns its address. */
async function signUpAndAskForLink(baseURL, { host } = {}) {
  const c = makeClient(baseURL);
  const email = uniqueEmail('only');
  const up = await c.client.signUp.email({ email, password: PASSWORD, name: 'Only Tessera' });
  assert.equal(up.error, null, JSON.stringify(up.error));
  const res = await fetch(`${baseURL}/api/auth/send-verification-email`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: new URL(baseURL).origin,
      ...(host ? { 'x-forwarded-host': host, forwarded: `host=${host}` } : {}),
    },
    body: JSON.stringify({ email }),
  });
  assert.equal(res.status, 200, await res.text());
  return email;
}

describe('Tessera: delivery', () => {
  it('STARTTLS with AUTH: the sink sees a TLS session and the credentials', async () => {
    const certs = await testCertificates();
    const caFile = path.join(fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'tessera-ca-')), 'ca.pem');
    fs.writeFileSync(caFile, certs.caCert);
    const sink = await startSink({ tls: certs, auth: { user: 'mailer', pass: 's3cret pass' } });
    const tessera = await startTessera({
      args: mailArgs(`smtp://mailer:${encodeURIComponent('s3cret pass')}@127.0.0.1:${sink.port}?tls=required`),
      env: { SSL_CERT_FILE: caFile },
    });
    try {
      const email = await signUpAndAskForLink(tessera.baseURL);
      const mail = await sink.waitFor((m) => m.to.includes(email));
      assert.equal(mail.secure, true, 'delivered inside TLS (STARTTLS)');
      assert.equal(mail.user, 'mailer', 'after AUTH with the configured user');
      assert.ok(sink.sessions.every((s) => s.user === null || s.user === 'mailer'));
      assert.ok(!tessera.logs.join('').includes('s3cret'), 'the SMTP password is never logged');
    } finally {
      await tessera.stop();
      await sink.stop();
      fs.rmSync(path.dirname(caFile), { recursive: true, force: true });
    }
  });

  it('an untrusted certificate is not accepted: nothing is delivered without TLS', async () => {
    const certs = await testCertificates();
    const sink = await startSink({ tls: certs, auth: { user: 'mailer', pass: 'pw' } });
    // No SSL_CERT_FILE: the test CA is not among the system roots.
    const tessera = await startTessera({ args: mailArgs(`smtp://mailer:pw@127.0.0.1:${sink.port}?tls=required`) });
    try {
      const email = await signUpAndAskForLink(tessera.baseURL);
      await assert.rejects(sink.waitFor((m) => m.to.includes(email), { timeoutMs: 4_000 }));
      assert.ok(sink.sessions.every((s) => s.user === null), 'no AUTH was sent over an unverified connection');
    } finally {
      await tessera.stop();
      await sink.stop();
    }
  });

  it('SMTP down during the request: the request succeeds, the message goes out once SMTP is back', async () => {
    const port = await freePort();
    const tessera = await startTessera({ args: mailArgs(`smtp://127.0.0.1:${port}`) });
    let sink;
    try {
      const email = uniqueEmail('outage');
      const c = makeClient(tessera.baseURL);
      await c.client.signUp.email({ email, password: PASSWORD, name: 'Outage' });
      const res = await c.client.requestPasswordReset({ email, redirectTo: `${tessera.baseURL}/reset-password` });
      assert.equal(res.error, null, 'the request does not wait for (or fail with) SMTP');
      // Let the sender fail at least once, then bring SMTP up on the same port.
      await new Promise((r) => setTimeout(r, 1_500));
      sink = await startSink({ port });
      const isReset = (m) => m.links.some((l) => new URL(l).pathname.startsWith('/api/auth/reset-password/'));
      await sink.waitFor((m) => m.to.includes(email) && isReset(m), { timeoutMs: 90_000 });
      // Exactly once.
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(sink.to(email).filter(isReset).length, 1);
    } finally {
      await tessera.stop();
      await sink?.stop();
    }
  });

  it('a permanently refused recipient (550) is not retried for ever and shows in /metrics', async () => {
    const sink = await startSink({ refuse: (a) => a.startsWith('refused-') });
    const tessera = await startTessera({ args: mailArgs(`smtp://127.0.0.1:${sink.port}`) });
    try {
      const email = uniqueEmail('refused');
      const c = makeClient(tessera.baseURL);
      await c.client.signUp.email({ email, password: PASSWORD, name: 'Refused' });
      const res = await c.client.requestPasswordReset({ email, redirectTo: `${tessera.baseURL}/reset-password` });
      assert.equal(res.error, null);
      const deadline = Date.now() + 20_000;
      let line = null;
      while (Date.now() < deadline && !line) {
        const metrics = await (await fetch(`${tessera.baseURL}/metrics`)).text();
        line = metrics
          .split('\n')
          .find((l) => /^tessera_\w*(mail|email|outbox)\w*/.test(l) && /(fail|permanent|reject|bounce)/.test(l) && /\s[1-9]\d*(\.\d+)?$/.test(l));
        if (!line) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(line, 'a failed-delivery counter above zero in /metrics');
      assert.ok(sink.refusedRecipients.includes(email));
      const attempts = sink.refusedRecipients.filter((a) => a === email).length;
      await new Promise((r) => setTimeout(r, 2_000));
      assert.equal(sink.refusedRecipients.filter((a) => a === email).length, attempts, 'a permanent failure is not retried');
    } finally {
      await tessera.stop();
      await sink.stop();
    }
  });

  it('links are built from the base URL, never from Host or X-Forwarded-Host', async () => {
    const sink = await startSink();
    const tessera = await startTessera({ args: mailArgs(`smtp://127.0.0.1:${sink.port}`) });
    try {
      const email = await signUpAndAskForLink(tessera.baseURL, { host: 'evil.example' });
      const mail = await sink.waitFor((m) => m.to.includes(email));
      for (const link of mail.links) assert.equal(new URL(link).origin, tessera.baseURL, link);
      assert.ok(!mail.html.includes('evil.example') && !mail.text.includes('evil.example'));
      assert.match(mail.from, /Tessera/, 'the app name is in the sender');
      assert.ok(mail.html.length > 0 && mail.text.length > 0, 'text and HTML parts');
    } finally {
      await tessera.stop();
      await sink.stop();
    }
  });
});

describe('Tessera: get-session right after a change to the user', () => {
  // get-session is answered from a one-second memory of session and user
  // (session/cache.rs): verify-email must make it forget the user at once.
  it('get-session right after verify-email says the address is verified', async () => {
    const sink = await startSink();
    const tessera = await startTessera({ args: mailArgs(`smtp://127.0.0.1:${sink.port}`) });
    try {
      const c = makeClient(tessera.baseURL);
      const email = uniqueEmail('fresh');
      await c.client.signUp.email({ email, password: PASSWORD, name: 'Fresh' });
      const arrives = sink.next(email, withLink('/api/auth/verify-email', '/now'));
      await c.client.getSession(); // fills the cache
      await c.client.sendVerificationEmail({ email, callbackURL: '/now' });
      const res = await click(linkIn(await arrives, '/api/auth/verify-email'));
      assert.equal(res.status, 302);
      assert.equal((await c.client.getSession()).data.user.emailVerified, true);
    } finally {
      await tessera.stop();
      await sink.stop();
    }
  });
});

describe('Tessera: the default sender', () => {
  // With the base URL's host an IP address (http://127.0.0.1:<port>), no-reply@127.0.0.1
  // is no address lettre accepts; the default sender must still be a usable one.
  it('with no --email-from, mail still goes out, from the app name', async () => {
    const sink = await startSink();
    const tessera = await startTessera({ args: ['--smtp-url', `smtp://127.0.0.1:${sink.port}`] });
    try {
      const email = await signUpAndAskForLink(tessera.baseURL);
      const mail = await sink.waitFor((m) => m.to.includes(email));
      const [sender] = mail.parsed.from.value;
      assert.equal(sender.name, 'Tessera', 'the app name is the sender’s name');
      assert.match(sender.address, /^no-reply@/);
      assert.equal(mail.envelope.from, sender.address, 'the envelope sender is the same address');
    } finally {
      await tessera.stop();
      await sink.stop();
    }
  });
});
