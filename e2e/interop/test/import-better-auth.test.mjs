// Moving from Better Auth to Tessera: a real better-auth@1.7.25 writes its database (schema
// from its own migrations, users through auth.api), `tessera import better-auth` copies it
// into a running Tessera, and the Better Auth users sign in to Tessera with their passwords
// while their live Better Auth sessions (token and signed cookie) keep working.
//
// Then identities and two-factor: Better Auth (served over HTTP, with the twoFactor and
// genericOAuth plugins) signs a user up through a real OpenID Connect provider (npm
// `oidc-provider`) and enrols another in TOTP; after the import, the first signs in to
// Tessera through the same provider and lands on the same user, and the second's
// authenticator (codes from npm `otpauth`, computed from Better Auth's otpauth URI) and one
// of Better Auth's backup codes (once) finish Tessera's challenge.
//
// Two sources, same scenario:
// * PostgreSQL through `pg`: TESSERA_TEST_POSTGRES_URL (default
//   postgres://postgres@127.0.0.1:5432/test); a fresh database per run, dropped at the end.
//   Without a reachable server that half is skipped with a note (with CI set it fails).
// * SQLite through sql.js (lib/sqljs-sqlite.mjs: Better Auth's Kysely SQLite dialect over
//   SQLite compiled to WebAssembly, since better-sqlite3 would need a native build), saved to
//   a file that tessera reads.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import http from 'node:http';

import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { genericOAuth, twoFactor } from 'better-auth/plugins';
import * as OTPAuth from 'otpauth';
import pg from 'pg';

import { jarFetch, makeClient } from '../lib/client.mjs';
import { ACCOUNTS, CLIENT_ID, CLIENT_SECRET, driveLogin, startOidcProvider } from '../lib/oidc-op.mjs';
import { openSqlJsDatabase } from '../lib/sqljs-sqlite.mjs';
import { SERVER_SECRET, freePort, startTessera, tesseraBin } from '../lib/tessera.mjs';

const run = promisify(execFile);
const adminURL = process.env.TESSERA_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh database on the test PostgreSQL, or null when none is reachable. */
async function createDatabase() {
  const admin = new pg.Client({ connectionString: adminURL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (e) {
    if (process.env.CI) throw new Error(`PostgreSQL at ${adminURL} is required on CI: ${e.message}`);
    return null;
  }
  const name = `ba_import_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminURL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

async function dropDatabase(name) {
  const admin = new pg.Client({ connectionString: adminURL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

/**
 * A Better Auth database on PostgreSQL: { betterAuthDatabase, from, query, sync, close },
 * or null. `query(sql, params)` resolves to rows; `sync()` makes Better Auth's writes
 * visible at `from` (nothing to do here).
 */
async function postgresSource() {
  const db = await createDatabase();
  if (!db) {
    console.log(`NOTE: PostgreSQL not reachable at ${adminURL}: the PostgreSQL import case is NOT run`);
    return null;
  }
  const pool = new pg.Pool({ connectionString: db.url });
  // An idle connection the forced DROP DATABASE at the end terminates must not crash the
  // run (seen once under load); a failing query still rejects and fails its test.
  pool.on('error', () => {});
  return {
    betterAuthDatabase: pool,
    from: db.url,
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    sync: () => {},
    close: async () => {
      await pool.end();
      await dropDatabase(db.name);
    },
  };
}

/** The same on SQLite (sql.js), saved to a file for tessera; the source is a plain path. */
async function sqliteSource() {
  const sqlite = await openSqlJsDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ba-sqlite-'));
  const file = path.join(dir, 'better-auth.db');
  return {
    betterAuthDatabase: sqlite.betterAuthDatabase,
    from: file,
    query: async (sql, params) => sqlite.query(sql, params),
    sync: () => sqlite.save(file),
    close: async () => {
      sqlite.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `tessera import better-auth --from <from>` into `databaseURL`; returns stdout. */
async function importInto(databaseURL, from, extra = []) {
  const { stdout } = await run(
    tesseraBin,
    ['import', 'better-auth', '--from', from, '--database-url', databaseURL, ...extra],
    { env: { ...process.env, TESSERA_SECRET: SERVER_SECRET, TESSERA_LOG: 'warn' }, timeout: 60000 },
  );
  return stdout;
}

/** A JSON POST from a page on Tessera's own origin (Node's fetch needs the Origin told). */
const post = (origin, body) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', origin },
  body: JSON.stringify(body),
});

function importSuite(label, openSource) {
  describe(`tessera import better-auth (real Better Auth on ${label})`, () => {
    let source;
    let auth;
    let tessera;
    const people = {
      ana: { name: 'Ana', email: 'ana@example.com', password: 'correct horse battery' },
      // Better Auth lower-cases the address at sign-up; Tessera must find it in any case
      mixed: { name: 'Mixed', email: 'Mixed.Case@Example.COM', password: 'Tr0ub4dor&3 mixed' },
      // NFKC matters here (full-width letters, the ﬁ ligature), and UTF-8 beyond the BMP
      unicode: { name: 'Jürgen', email: 'juergen@example.com', password: 'Ｐässwörd ﬁx 日本語 🔑' },
    };
    let anaSignIn;
    const signIn = (email, password) =>
      fetch(`${tessera.baseURL}/api/auth/sign-in/email`, post(tessera.baseURL, { email, password }));
    const getSession = (headers) => fetch(`${tessera.baseURL}/api/auth/get-session`, { headers });
    const skipped = (t) => {
      if (source) return false;
      t.skip(`no ${label}`);
      return true;
    };

    before(async () => {
      source = await openSource();
      if (!source) return;
      auth = betterAuth({
        baseURL: 'http://127.0.0.1:3000',
        // Tessera runs with the same secret, so Better Auth's signed cookies verify there
        secret: SERVER_SECRET,
        database: source.betterAuthDatabase,
        emailAndPassword: { enabled: true },
        logger: { disabled: true },
      });
      const { runMigrations } = await getMigrations(auth.options);
      await runMigrations();

      for (const p of Object.values(people)) {
        const res = await auth.api.signUpEmail({ body: { name: p.name, email: p.email, password: p.password } });
        p.id = res.user.id;
      }
      // a user who signs in with GitHub only (no password)
      const ctx = await auth.$context;
      const oauth = await ctx.internalAdapter.createUser({ name: 'Octo', email: 'octo@example.com', emailVerified: true });
      await ctx.internalAdapter.createAccount({ userId: oauth.id, providerId: 'github', accountId: '583231' });
      people.oauth = { id: oauth.id, email: 'octo@example.com' };

      const res = await auth.api.signInEmail({ body: { email: people.ana.email, password: people.ana.password }, asResponse: true });
      assert.equal(res.status, 200);
      const body = await res.json();
      const cookie = res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .find((c) => c.startsWith('better-auth.session_token='));
      assert.ok(cookie, 'Better Auth set its session cookie');
      anaSignIn = { token: body.token, cookie };
      // the mixed-case user's sign-up session has expired
      const anHourAgo = new Date(Date.now() - 3600_000).toISOString();
      await source.query(`UPDATE "session" SET "expiresAt" = $1 WHERE "userId" = $2`, [anHourAgo, people.mixed.id]);
      source.sync();

      tessera = await startTessera();
    });

    after(async () => {
      await tessera?.stop();
      await source?.close();
    });

    it('imports users, passwords and live sessions, and says what it left out', async (t) => {
      if (skipped(t)) return;
      const out = await importInto(tessera.databaseURL, source.from);
      assert.match(out, /^users: 4 new, 0 already present, 0 skipped$/m);
      assert.match(out, /^passwords: 3 new, 0 already present, 1 user\(s\) without a password$/m);
      assert.match(out, /^sessions: 3 new, 0 already present, 1 expired \(not imported\), 0 skipped$/m);
      assert.match(out, new RegExp(`no password: user ${people.oauth.id} <octo@example.com>`));
      assert.match(out, /skipped 1 identit\(y\/ies\): no \[providers\.github\] is configured/);
      assert.ok(!out.includes(anaSignIn.token), 'no session token in the report');
      assert.ok(!out.includes('postgres://'), 'the source URL (and any password in it) is not echoed');
      const rows = await source.query(`SELECT "password" FROM "account" WHERE "providerId" = 'credential'`);
      assert.equal(rows.length, 3);
      for (const r of rows) assert.ok(!out.includes(r.password.split(':')[1]), 'no hash in the report');
    });

    it('lets every Better Auth user sign in to Tessera with their password, keeping their id', async (t) => {
      if (skipped(t)) return;
      for (const [who, p] of Object.entries(people)) {
        if (who === 'oauth') continue;
        const email = who === 'mixed' ? 'MIXED.case@example.com' : p.email;
        const res = await signIn(email, p.password);
        const body = await res.json();
        assert.equal(res.status, 200, `${who}: ${JSON.stringify(body)}`);
        assert.equal(body.user.id, p.id, `${who} keeps the Better Auth user id`);
        assert.equal(body.user.email, p.email.toLowerCase());
        // a Tessera session
        const s = await getSession({ authorization: `Bearer ${body.token}` });
        assert.equal((await s.json()).user.id, p.id);
        const wrong = await signIn(email, `${p.password}!`);
        assert.equal(wrong.status, 401, `${who}: a wrong password is refused`);
        assert.equal((await wrong.json()).code, 'INVALID_EMAIL_OR_PASSWORD');
      }
      // again after the upgrade to Argon2id at the first sign-in: still the same password
      assert.equal((await signIn(people.unicode.email, people.unicode.password)).status, 200);
      const oauth = await signIn(people.oauth.email, 'anything at all');
      assert.equal(oauth.status, 401, 'a user without a password cannot sign in with one');
    });

    it('accepts the live Better Auth session: its token as Bearer and its signed cookie', async (t) => {
      if (skipped(t)) return;
      const byBearer = await getSession({ authorization: `Bearer ${anaSignIn.token}` });
      assert.equal(byBearer.status, 200);
      const s = await byBearer.json();
      assert.equal(s.user.id, people.ana.id);
      assert.equal(s.session.token, anaSignIn.token);
      const byCookie = await getSession({ cookie: anaSignIn.cookie });
      assert.equal((await byCookie.json()).user.id, people.ana.id);
      // the expired Better Auth session was not imported
      const rows = await source.query(`SELECT "token" FROM "session" WHERE "userId" = $1`, [people.mixed.id]);
      assert.equal(rows.length, 1);
      const expired = await getSession({ authorization: `Bearer ${rows[0].token}` });
      assert.equal(await expired.text(), 'null');
      // and an access token for Ana carries her Better Auth id as subject
      const tok = await fetch(`${tessera.baseURL}/api/auth/token`, { headers: { authorization: `Bearer ${anaSignIn.token}` } });
      const { token: jwt } = await tok.json();
      const claims = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
      assert.equal(claims.sub, people.ana.id);
    });

    it('adds nothing on a second run, and just the newcomers after more sign-ups', async (t) => {
      if (skipped(t)) return;
      const second = await importInto(tessera.databaseURL, source.from);
      assert.match(second, /^users: 0 new, 4 already present, 0 skipped$/m);
      assert.match(second, /^passwords: 0 new, 3 already present, 1 user\(s\) without a password$/m);
      assert.match(second, /^sessions: 0 new, 3 already present, 1 expired \(not imported\), 0 skipped$/m);

      const late = { name: 'Late', email: 'late@example.com', password: 'signed up after the first import' };
      const res = await auth.api.signUpEmail({ body: late });
      source.sync();
      const third = await importInto(tessera.databaseURL, source.from);
      assert.match(third, /^users: 1 new, 4 already present, 0 skipped$/m);
      assert.match(third, /^sessions: 1 new, 3 already present/m);
      const signedIn = await signIn(late.email, late.password);
      assert.equal(signedIn.status, 200);
      assert.equal((await signedIn.json()).user.id, res.user.id);
    });
  });
}

importSuite('PostgreSQL', postgresSource);
importSuite('SQLite', sqliteSource);

/** The code `otpauth` computes for the key in `uri` now. */
const totpCode = (uri) => OTPAuth.URI.parse(uri).generate();

function identitiesAndTwoFactorSuite(label, openSource) {
  describe(`tessera import better-auth: identities and two-factor (real Better Auth on ${label})`, () => {
    const BA_SECRET = 'better-auth-import-secret-for-two-factor-0123456789';
    const PASSWORD = 'correct horse battery';
    let source;
    let op;
    let baServer;
    let tessera;
    let dir;
    let oidcUser;
    let tfUser;
    let enrolment;

    before(async () => {
      source = await openSource();
      if (!source) return;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ba-import-extras-'));
      const opPort = await freePort();
      const issuer = `http://127.0.0.1:${opPort}`;
      // Better Auth over HTTP: the OpenID Connect flow needs its callback
      baServer = http.createServer();
      await new Promise((resolve) => baServer.listen(0, '127.0.0.1', resolve));
      const baBase = `http://127.0.0.1:${baServer.address().port}`;
      const auth = betterAuth({
        baseURL: baBase,
        secret: BA_SECRET,
        database: source.betterAuthDatabase,
        emailAndPassword: { enabled: true },
        trustedOrigins: [baBase],
        plugins: [
          twoFactor(),
          genericOAuth({
            config: [
              {
                providerId: 'test-oidc',
                discoveryUrl: `${issuer}/.well-known/openid-configuration`,
                clientId: CLIENT_ID,
                clientSecret: CLIENT_SECRET,
                pkce: true,
                scopes: ['openid', 'email', 'profile'],
              },
            ],
          }),
        ],
        logger: { disabled: true },
      });
      const { runMigrations } = await getMigrations(auth.options);
      await runMigrations();
      baServer.on('request', toNodeHandler(auth));

      const config = path.join(dir, 'tessera.toml');
      fs.writeFileSync(
        config,
        `[providers.test-oidc]\nissuer = "${issuer}"\nclient_id = "${CLIENT_ID}"\nclient_secret = "${CLIENT_SECRET}"\n`,
      );
      tessera = await startTessera({ args: ['--config', config] });
      tessera.config = config;
      op = await startOidcProvider({
        port: opPort,
        redirectUris: [
          `${baBase}/api/auth/oauth2/callback/test-oidc`,
          `${baBase}/api/auth/callback/test-oidc`,
          `${tessera.baseURL}/api/auth/callback/test-oidc`,
        ],
      });

      // 1. a new user signs in to Better Auth with the provider (the unmodified client)
      const carla = makeClient(baBase);
      const started = await carla.client.signIn.social({ provider: 'test-oidc', callbackURL: '/home', disableRedirect: true });
      assert.equal(started.error, null, JSON.stringify(started.error));
      const back = await driveLogin(started.data.url, { login: 'alice', callbackPrefix: baBase });
      const res = await jarFetch(carla.jar, null)(back, { redirect: 'manual' });
      await res.text();
      assert.equal(res.status, 302);
      const session = await carla.client.getSession();
      assert.equal(session.data?.user.email, ACCOUNTS.alice.email);
      oidcUser = session.data.user;
      // Unverified locally: Tessera then never links by address, so only the imported
      // (issuer, subject) can lead the provider sign-in to this user.
      const no = label === 'SQLite' ? '0' : 'false';
      await source.query(`UPDATE "user" SET "emailVerified" = ${no} WHERE "id" = $1`, [oidcUser.id]);

      // 2. another enrols TOTP at Better Auth (enable, then a first code turns it on)
      const signedUp = await auth.api.signUpEmail({ body: { name: 'Toto', email: 'toto@example.com', password: PASSWORD } });
      tfUser = signedUp.user;
      const signIn = await auth.api.signInEmail({ body: { email: 'toto@example.com', password: PASSWORD }, asResponse: true });
      const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      enrolment = await auth.api.enableTwoFactor({ body: { password: PASSWORD }, headers: { cookie } });
      assert.match(enrolment.totpURI, /^otpauth:\/\/totp\//);
      await auth.api.verifyTOTP({ body: { code: totpCode(enrolment.totpURI) }, headers: { cookie } });
      const [row] = await source.query(`SELECT "twoFactorEnabled" FROM "user" WHERE "id" = $1`, [tfUser.id]);
      assert.ok(row.twoFactorEnabled === true || row.twoFactorEnabled === 1, 'two-factor is on at Better Auth');
      source.sync();
    });

    after(async () => {
      await tessera?.stop();
      await op?.stop();
      await new Promise((resolve) => (baServer ? baServer.close(resolve) : resolve()));
      await source?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const skipped = (t) => {
      if (source) return false;
      t.skip(`no ${label}`);
      return true;
    };

    it('needs the Better Auth secret, then imports the identity and the authenticator', async (t) => {
      if (skipped(t)) return;
      await assert.rejects(
        importInto(tessera.databaseURL, source.from, ['--config', tessera.config]),
        /--better-auth-secret-file/,
      );
      const secretFile = path.join(dir, 'ba-secret');
      fs.writeFileSync(secretFile, `${BA_SECRET}\n`);
      const out = await importInto(tessera.databaseURL, source.from, ['--config', tessera.config, '--better-auth-secret-file', secretFile]);
      assert.match(out, /^users: 2 new, 0 already present, 0 skipped$/m);
      assert.match(out, /^identities: 1 new, 0 already present, 0 skipped$/m);
      assert.match(out, /^two-factor: 1 new, 0 already present, 0 skipped$/m);
      assert.ok(!out.includes(BA_SECRET) && !out.includes(enrolment.backupCodes[0]), 'no secret in the report');
    });

    it('signs the provider user in to Tessera as the same user', async (t) => {
      if (skipped(t)) return;
      const c = makeClient(tessera.baseURL);
      const started = await c.client.signIn.social({ provider: 'test-oidc', callbackURL: '/tasks', disableRedirect: true });
      assert.equal(started.error, null, JSON.stringify(started.error));
      const back = await driveLogin(started.data.url, { login: 'alice', callbackPrefix: tessera.baseURL });
      const res = await jarFetch(c.jar, null)(back, { redirect: 'manual' });
      await res.text();
      assert.equal(res.status, 302);
      assert.equal(new URL(res.headers.get('location'), tessera.baseURL).pathname, '/tasks');
      const session = await c.client.getSession();
      assert.equal(session.data?.user.id, oidcUser.id, 'the Better Auth user, not a new one');
    });

    it('accepts codes of the Better Auth authenticator and a Better Auth backup code once', async (t) => {
      if (skipped(t)) return;
      const challenge = async () => {
        const jar = makeClient(tessera.baseURL);
        const r = await jarFetch(jar.jar, tessera.baseURL)(`${tessera.baseURL}/api/auth/sign-in/email`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'toto@example.com', password: PASSWORD }),
        });
        assert.equal((await r.json()).twoFactorRedirect, true);
        return (path, body) =>
          jarFetch(jar.jar, tessera.baseURL)(`${tessera.baseURL}/api/auth/two-factor/${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
      };
      let verify = await challenge();
      let r = await verify('verify-totp', { code: totpCode(enrolment.totpURI) });
      assert.equal(r.status, 200, await r.clone().text());
      assert.equal((await r.json()).user.id, tfUser.id);
      verify = await challenge();
      r = await verify('verify-backup-code', { code: enrolment.backupCodes[0] });
      assert.equal(r.status, 200, await r.clone().text());
      assert.equal((await r.json()).user.id, tfUser.id);
      verify = await challenge();
      r = await verify('verify-backup-code', { code: enrolment.backupCodes[0] });
      assert.equal(r.status, 401, 'a used backup code is refused');
      r = await verify('verify-backup-code', { code: enrolment.backupCodes[1] });
      assert.equal(r.status, 200, 'another one works');
    });
  });
}

identitiesAndTwoFactorSuite('PostgreSQL', postgresSource);
identitiesAndTwoFactorSuite('SQLite', sqliteSource);
