// Moving from Better Auth to Tessera: a real better-auth@1.7.25 writes its database (schema
// from its own migrations, users through auth.api), `tessera import better-auth` copies it
// into a running Tessera, and the Better Auth users sign in to Tessera with their passwords
// while their live Better Auth sessions (token and signed cookie) keep working.
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

import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import pg from 'pg';

import { openSqlJsDatabase } from '../lib/sqljs-sqlite.mjs';
import { SERVER_SECRET, startTessera, tesseraBin } from '../lib/tessera.mjs';

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
async function importInto(databaseURL, from) {
  const { stdout } = await run(
    tesseraBin,
    ['import', 'better-auth', '--from', from, '--database-url', databaseURL],
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
      assert.match(out, /1 github account link/);
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
