// 1a. The real Better Auth client (better-auth/client + jwtClient) against Tessera.
// Every call goes through the unmodified client; assertions cover both what the client
// parsed (errors it branches on, Date revival) and the raw wire (status, headers, cookies).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createLocalJWKSet, jwtVerify } from 'jose';

import { CookieJar, makeClient } from '../lib/client.mjs';
import { ISO_MILLIS, decodeJwt, startTessera, uniqueEmail } from '../lib/tessera.mjs';

const COOKIE = 'better-auth.session_token';
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'staple battery horse correct';

/** Keys of an object, sorted: shapes are compared exactly. */
const keys = (o) => Object.keys(o).sort();
// `twoFactorEnabled`: Better Auth's twoFactor plugin adds it to the user; Tessera has the plugin built in.
const USER_KEYS = ['createdAt', 'email', 'emailVerified', 'id', 'image', 'name', 'twoFactorEnabled', 'updatedAt'];
const SESSION_KEYS = ['createdAt', 'expiresAt', 'id', 'ipAddress', 'token', 'updatedAt', 'userAgent', 'userId'];

function assertRevivedDate(value, what) {
  assert.ok(value instanceof Date, `${what} should be revived as a Date, got ${typeof value} ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${what} is an invalid Date`);
  assert.ok(Math.abs(value.getTime() - Date.now()) < 8 * 86400 * 1000, `${what} is far from now: ${value.toISOString()}`);
}

function assertUser(user, { email, name }) {
  assert.deepEqual(keys(user), USER_KEYS);
  assert.match(user.id, /^[A-Za-z0-9]{32}$/);
  assert.equal(user.email, email);
  assert.equal(user.name, name);
  assert.equal(user.emailVerified, false);
  assert.equal(user.image, null);
  assertRevivedDate(user.createdAt, 'user.createdAt');
  assertRevivedDate(user.updatedAt, 'user.updatedAt');
}

/** The client's error object for a failed call: the server's {message, code} plus status. */
function assertClientError(result, { status, code, message }) {
  assert.equal(result.data, null);
  assert.ok(result.error, 'expected an error');
  assert.equal(result.error.status, status);
  assert.equal(result.error.code, code);
  assert.equal(result.error.message, message);
}

describe('Better Auth client 1.7 against Tessera', () => {
  let tessera;
  let base;
  const email = uniqueEmail('alice');
  const name = 'Alice Interop';
  let alice; // the first device: a client with its own jar
  let userId;
  let signUpToken;

  before(async () => {
    tessera = await startTessera();
    base = tessera.baseURL;
    alice = makeClient(base);
  });

  after(async () => {
    await tessera?.stop();
  });

  it('signUp.email creates the user, signs in, and sets the signed session cookie', async () => {
    // mixed case on the way in, lowercased on the way out (Better Auth's normalisation)
    const res = await alice.client.signUp.email({ email: email.replace('alice', 'Alice'), password: PASSWORD, name });
    assert.equal(res.error, null, JSON.stringify(res.error));
    assert.deepEqual(keys(res.data), ['token', 'user']);
    assert.match(res.data.token, /^[A-Za-z0-9]{32}$/);
    assertUser(res.data.user, { email, name });
    userId = res.data.user.id;
    signUpToken = res.data.token;

    const wire = alice.last('/sign-up/email');
    assert.equal(wire.status, 200);
    assert.match(wire.headers.get('content-type'), /^application\/json/);
    const raw = JSON.parse(wire.text);
    assert.match(raw.user.createdAt, ISO_MILLIS);
    assert.match(raw.user.updatedAt, ISO_MILLIS);
    // cookie: name=<token>.<base64 HMAC, URL-encoded>; Max-Age=7d; Path=/; HttpOnly; SameSite=Lax
    const [setCookie] = wire.headers.getSetCookie();
    assert.match(
      setCookie,
      new RegExp(`^${COOKIE.replace('.', '\\.')}=${res.data.token}\\.[A-Za-z0-9%]+; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax$`),
    );
    const signed = decodeURIComponent(alice.jar.get(COOKIE));
    assert.match(signed, new RegExp(`^${res.data.token}\\.[A-Za-z0-9+/]{43}=$`));
    // bearer plugin: the signed token as a header, exposed to browsers
    assert.equal(wire.headers.get('set-auth-token'), signed);
    assert.match(wire.headers.get('access-control-expose-headers'), /set-auth-token/);
  });

  it('getSession returns the session and user, with Date revival and set-auth-jwt', async () => {
    const res = await alice.client.getSession();
    assert.equal(res.error, null);
    assert.deepEqual(keys(res.data), ['session', 'user']);
    const { session, user } = res.data;
    assert.deepEqual(keys(session), SESSION_KEYS);
    assert.equal(session.token, signUpToken);
    assert.equal(session.userId, userId);
    assert.match(session.id, /^[A-Za-z0-9]{32}$/);
    assert.equal(session.ipAddress, '127.0.0.1');
    assert.equal(typeof session.userAgent, 'string');
    for (const k of ['createdAt', 'updatedAt', 'expiresAt']) assertRevivedDate(session[k], `session.${k}`);
    const ttl = session.expiresAt.getTime() - session.createdAt.getTime();
    assert.ok(Math.abs(ttl - 7 * 86400 * 1000) < 5000, `session lifetime ${ttl} ms is not 7 days`);
    assertUser(user, { email, name });

    const wire = alice.last('/get-session');
    assert.equal(wire.headers.get('cache-control'), 'no-store');
    const jwt = wire.headers.get('set-auth-jwt');
    assert.ok(jwt, 'set-auth-jwt header missing');
    assert.equal(decodeJwt(jwt).payload.sub, userId);
    assert.match(wire.headers.get('access-control-expose-headers'), /set-auth-jwt/);
  });

  it('token() returns an EdDSA access token that verifies against jwks()', async () => {
    const res = await alice.client.token();
    assert.equal(res.error, null);
    assert.deepEqual(keys(res.data), ['token']);
    const { header, payload } = decodeJwt(res.data.token);
    assert.deepEqual(keys(header), ['alg', 'kid', 'typ']);
    assert.equal(header.alg, 'EdDSA');
    assert.equal(header.typ, 'at+jwt');
    assert.deepEqual(keys(payload), ['amr', 'aud', 'auth_time', 'email', 'emailVerified', 'exp', 'iat', 'iss', 'jti', 'name', 'sid', 'sub']);
    assert.deepEqual(payload.amr, ['pwd']);
    assert.equal(payload.iss, base);
    assert.equal(payload.aud, base);
    assert.equal(payload.sub, userId);
    assert.equal(payload.email, email);
    assert.equal(payload.name, name);
    assert.equal(payload.emailVerified, false);
    assert.equal(payload.exp - payload.iat, 900);
    const session = (await alice.client.getSession()).data.session;
    assert.equal(payload.sid, session.id);

    // jwtClient's jwks() action
    const jwks = await alice.client.jwks();
    assert.equal(jwks.error, null);
    assert.equal(jwks.data.keys.length, 1);
    assert.deepEqual(keys(jwks.data.keys[0]), ['alg', 'crv', 'kid', 'kty', 'x']);
    assert.equal(jwks.data.keys[0].kid, header.kid);
    const verified = await jwtVerify(res.data.token, createLocalJWKSet(jwks.data), {
      issuer: base,
      audience: base,
      algorithms: ['EdDSA'],
      typ: 'at+jwt',
    });
    assert.equal(verified.payload.sub, userId);
  });

  it('duplicate email: 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL', async () => {
    const other = makeClient(base);
    const res = await other.client.signUp.email({ email, password: 'another password', name: 'Mallory' });
    assertClientError(res, {
      status: 422,
      code: 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL',
      message: 'User already exists. Use another email.',
    });
    assert.deepEqual(keys(JSON.parse(other.last('/sign-up/email').text)), ['code', 'message']);
    assert.equal(other.jar.get(COOKIE), undefined);
  });

  it('short password: 400 PASSWORD_TOO_SHORT', async () => {
    const other = makeClient(base);
    const res = await other.client.signUp.email({ email: uniqueEmail('short'), password: 'short', name: 'Shorty' });
    assertClientError(res, { status: 400, code: 'PASSWORD_TOO_SHORT', message: 'Password too short' });
  });

  it('wrong password: 401 INVALID_EMAIL_OR_PASSWORD, same as an unknown email', async () => {
    const other = makeClient(base);
    const wrong = await other.client.signIn.email({ email, password: 'not the password' });
    assertClientError(wrong, { status: 401, code: 'INVALID_EMAIL_OR_PASSWORD', message: 'Invalid email or password' });
    const unknown = await other.client.signIn.email({ email: uniqueEmail('nobody'), password: PASSWORD });
    assertClientError(unknown, { status: 401, code: 'INVALID_EMAIL_OR_PASSWORD', message: 'Invalid email or password' });
    assert.equal(other.jar.get(COOKIE), undefined);
  });

  it('a Node client without Origin is refused like Better Auth: 403 MISSING_OR_NULL_ORIGIN', async () => {
    const bare = makeClient(base, { origin: null });
    const res = await bare.client.signIn.email({ email, password: PASSWORD });
    assertClientError(res, { status: 403, code: 'MISSING_OR_NULL_ORIGIN', message: 'Missing or null Origin' });
  });

  it('invalid input: the validation codes the client sees', async () => {
    const other = makeClient(base);
    const badEmail = await other.client.signUp.email({ email: 'not-an-email', password: PASSWORD, name: 'X' });
    assertClientError(badEmail, { status: 400, code: 'VALIDATION_ERROR', message: '[body.email] Invalid email address' });
    const badSignIn = await other.client.signIn.email({ email: 'not-an-email', password: PASSWORD });
    assertClientError(badSignIn, { status: 400, code: 'INVALID_EMAIL', message: 'Invalid email' });
    const long = await other.client.signUp.email({ email: uniqueEmail('long'), password: 'x'.repeat(129), name: 'X' });
    assertClientError(long, { status: 400, code: 'PASSWORD_TOO_LONG', message: 'Password too long' });
  });

  it('signIn.email with callbackURL: redirect:true and url for a relative path, 403 for a foreign one', async () => {
    const web = makeClient(base);
    const res = await web.client.signIn.email({ email, password: PASSWORD, callbackURL: '/dashboard' });
    assert.equal(res.error, null);
    assert.deepEqual(keys(res.data), ['redirect', 'token', 'url', 'user']);
    assert.equal(res.data.redirect, true);
    assert.equal(res.data.url, '/dashboard');
    assert.equal(web.last('/sign-in/email').headers.get('location'), '/dashboard');
    await web.client.signOut();

    const evil = await makeClient(base).client.signIn.email({ email, password: PASSWORD, callbackURL: 'https://evil.example/' });
    assertClientError(evil, { status: 403, code: 'INVALID_CALLBACK_URL', message: 'Invalid callbackURL' });
  });

  it('signIn.email with rememberMe:false: a browser-session cookie plus dont_remember', async () => {
    const kiosk = makeClient(base);
    const res = await kiosk.client.signIn.email({ email, password: PASSWORD, rememberMe: false });
    assert.equal(res.error, null);
    const [session, dontRemember, ...rest] = kiosk.last('/sign-in/email').headers.getSetCookie();
    assert.deepEqual(rest, []);
    assert.match(session, new RegExp(`^${COOKIE.replace('.', '\\.')}=${res.data.token}\\.[^;]+; Path=/; HttpOnly; SameSite=Lax$`));
    assert.match(dontRemember, /^better-auth\.dont_remember=true\.[A-Za-z0-9%]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const s = await kiosk.client.getSession();
    const ttl = s.data.session.expiresAt.getTime() - s.data.session.createdAt.getTime();
    assert.ok(Math.abs(ttl - 86400 * 1000) < 5000, `a rememberMe:false session lives one day, not ${ttl} ms`);
    await kiosk.client.signOut();
  });

  it('signIn.email on a second device: {redirect:false, token, user}, no url', async () => {
    const phone = makeClient(base);
    const res = await phone.client.signIn.email({ email: email.toUpperCase(), password: PASSWORD });
    assert.equal(res.error, null, JSON.stringify(res.error));
    assert.deepEqual(keys(res.data), ['redirect', 'token', 'user']);
    assert.equal(res.data.redirect, false);
    assert.match(res.data.token, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(res.data.token, signUpToken);
    assertUser(res.data.user, { email, name });
    assert.ok(phone.jar.get(COOKIE));
    const s = await phone.client.getSession();
    assert.equal(s.data.session.token, res.data.token);
  });

  it('a cookie-less client works with Bearer from set-auth-token (bearer plugin)', async () => {
    let bearer = '';
    const cli = makeClient(base, {
      jar: null,
      fetchOptions: {
        auth: { type: 'Bearer', token: () => bearer },
        onSuccess: (ctx) => {
          const t = ctx.response.headers.get('set-auth-token');
          if (t) bearer = t;
        },
      },
    });
    const res = await cli.client.signIn.email({ email, password: PASSWORD });
    assert.equal(res.error, null);
    assert.match(bearer, new RegExp(`^${res.data.token}\\.`));
    const s = await cli.client.getSession();
    assert.equal(s.data.user.id, userId);
    assert.equal(s.data.session.token, res.data.token);
    const out = await cli.client.signOut();
    assert.deepEqual(out.data, { success: true });
    assert.equal((await cli.client.getSession()).data, null);
  });

  it('listSessions lists every live session; token is the session id; revokeSession(id) ends one', async () => {
    const tablet = makeClient(base);
    const signedIn = await tablet.client.signIn.email({ email, password: PASSWORD });
    assert.equal(signedIn.error, null);
    const tabletSession = (await tablet.client.getSession()).data.session;

    const list = await alice.client.listSessions();
    assert.equal(list.error, null);
    assert.ok(Array.isArray(list.data));
    assert.equal(list.data.length, 3); // alice, phone, tablet (the bearer client signed out)
    for (const s of list.data) {
      assert.deepEqual(keys(s), [...SESSION_KEYS, 'current'].sort());
      assert.equal(s.userId, userId);
      assert.equal(s.token, s.id, 'list-sessions must not leak session tokens');
      assertRevivedDate(s.expiresAt, 'listed expiresAt');
    }
    assert.equal(list.data.filter((s) => s.current).length, 1);
    assert.ok(list.data.some((s) => s.id === tabletSession.id));
    assert.ok(!list.data.some((s) => s.token === signUpToken || s.token === signedIn.data.token));

    const revoked = await alice.client.revokeSession({ token: tabletSession.id });
    assert.equal(revoked.error, null);
    assert.deepEqual(revoked.data, { status: true });
    assert.equal((await tablet.client.getSession()).data, null);
    assert.equal((await alice.client.listSessions()).data.length, 2);
  });

  it('revokeOtherSessions ends the other devices and keeps this one', async () => {
    const phone = makeClient(base);
    assert.equal((await phone.client.signIn.email({ email, password: PASSWORD })).error, null);
    const res = await alice.client.revokeOtherSessions();
    assert.equal(res.error, null);
    assert.deepEqual(res.data, { status: true });
    assert.equal((await phone.client.getSession()).data, null);
    const mine = await alice.client.getSession();
    assert.equal(mine.data.session.token, signUpToken);
    const list = await alice.client.listSessions();
    assert.equal(list.data.length, 1);
    assert.equal(list.data[0].current, true);
  });

  it('changePassword: wrong current password is 400 INVALID_PASSWORD; then old stops working, new works', async () => {
    const laptop = makeClient(base);
    assert.equal((await laptop.client.signIn.email({ email, password: PASSWORD })).error, null);

    const bad = await alice.client.changePassword({ currentPassword: 'not it at all', newPassword: NEW_PASSWORD });
    assertClientError(bad, { status: 400, code: 'INVALID_PASSWORD', message: 'Invalid password' });
    const short = await alice.client.changePassword({ currentPassword: PASSWORD, newPassword: 'short' });
    assertClientError(short, { status: 400, code: 'PASSWORD_TOO_SHORT', message: 'Password too short' });

    const res = await alice.client.changePassword({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    assert.equal(res.error, null, JSON.stringify(res.error));
    assert.deepEqual(keys(res.data), ['token', 'user']);
    assert.equal(res.data.token, null);
    assertUser(res.data.user, { email, name });
    // this session survives; Tessera ends every other one
    assert.equal((await alice.client.getSession()).data.session.token, signUpToken);
    assert.equal((await laptop.client.getSession()).data, null);

    const fresh = makeClient(base);
    const old = await fresh.client.signIn.email({ email, password: PASSWORD });
    assertClientError(old, { status: 401, code: 'INVALID_EMAIL_OR_PASSWORD', message: 'Invalid email or password' });
    const ok = await fresh.client.signIn.email({ email, password: NEW_PASSWORD });
    assert.equal(ok.error, null);
    assert.equal(ok.data.user.id, userId);
  });

  it('changePassword with revokeOtherSessions replaces the current session too', async () => {
    const res = await alice.client.changePassword({
      currentPassword: NEW_PASSWORD,
      newPassword: PASSWORD,
      revokeOtherSessions: true,
    });
    assert.equal(res.error, null, JSON.stringify(res.error));
    assert.match(res.data.token, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(res.data.token, signUpToken);
    const signed = decodeURIComponent(alice.jar.get(COOKIE));
    assert.ok(signed.startsWith(`${res.data.token}.`), 'the jar holds the new session cookie');
    assert.equal(alice.last('/change-password').headers.get('set-auth-token'), signed);
    const s = await alice.client.getSession();
    assert.equal(s.data.session.token, res.data.token);
    signUpToken = res.data.token;
  });

  it('signOut: {success:true}, cookies cleared, then getSession is null and token() 401', async () => {
    const stolen = alice.jar.get(COOKIE);
    const jwt = (await alice.client.token()).data.token;
    const tasks = () =>
      fetch(`${base}/api/${userId}/tasks`, { headers: { authorization: `Bearer ${jwt}` } });
    assert.equal((await tasks()).status, 200);

    const res = await alice.client.signOut();
    assert.equal(res.error, null);
    assert.deepEqual(res.data, { success: true });
    const cleared = alice.last('/sign-out').headers.getSetCookie();
    assert.ok(
      cleared.some((c) => c.startsWith(`${COOKIE}=;`) && /Max-Age=0/.test(c)),
      `session cookie not cleared: ${cleared}`,
    );
    assert.equal(alice.jar.get(COOKIE), undefined);

    const s = await alice.client.getSession();
    assert.equal(s.error, null);
    assert.equal(s.data, null);
    assert.equal(alice.last('/get-session').text, 'null');

    const t = await alice.client.token();
    assertClientError(t, { status: 401, code: 'UNAUTHORIZED', message: 'Unauthorized' });

    // the old cookie, replayed, is dead as well
    const replay = new CookieJar();
    replay.cookies.set(COOKIE, stolen);
    const thief = makeClient(base, { jar: replay });
    assert.equal((await thief.client.getSession()).data, null);

    // and so is the access token minted for the ended session (Tessera's tasks API)
    const refused = await tasks();
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  });
});
