// A real OpenID Connect provider for the interop suites: npm `oidc-provider` (a certified
// OP) on 127.0.0.1, one confidential client, ES256 ID tokens, PKCE required, and its
// development login and consent pages, which `driveLogin` fills in over plain HTTP (any
// login name is accepted; the accounts below decide the claims).
//
// Also a GitHub-shaped OAuth 2.0 server (`startGithubLike`): /login/oauth/authorize signs in
// the account named by `login_hint` at once, /login/oauth/access_token checks the client,
// the code (once) and PKCE, /user and /user/emails answer as GitHub's REST API does.

import crypto from 'node:crypto';
import http from 'node:http';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

import { CookieJar } from './client.mjs';
import { freePort } from './tessera.mjs';

export const CLIENT_ID = 'tessera-interop';
export const CLIENT_SECRET = 'interop-client-secret-0123456789';

/** The people the providers know: login name → claims. */
export const ACCOUNTS = {
  alice: { email: 'alice.oidc@example.com', email_verified: true, name: 'Alice OIDC' },
  bob: { email: 'bob.oidc@example.com', email_verified: true, name: 'Bob OIDC' },
  carol: { email: 'carol.oidc@example.com', email_verified: false, name: 'Carol OIDC' },
  dave: { email: 'dave.oidc@example.com', email_verified: true, name: 'Dave OIDC' },
};

/**
 * Starts the OP on a free port. `redirectUris` may be a function of the issuer, called
 * before the OP listens. Returns { issuer, stop }.
 */
export async function startOidcProvider({ port, redirectUris }) {
  port ??= await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'interop-es256', alg: 'ES256', use: 'sig' };
  const oidc = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: typeof redirectUris === 'function' ? redirectUris(issuer) : redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, sub) {
      const claims = ACCOUNTS[sub];
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...claims }) };
    },
  });
  oidc.proxy = false;
  const server = http.createServer(oidc.callback());
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const unescape = (s) =>
  s.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>');

/** The first form of a page: its action and hidden inputs. */
function firstForm(html) {
  const form = html.match(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/);
  if (!form) return null;
  const fields = {};
  for (const input of form[2].matchAll(/<input[^>]*>/g)) {
    const name = input[0].match(/name="([^"]*)"/)?.[1];
    const type = input[0].match(/type="([^"]*)"/)?.[1];
    const value = input[0].match(/value="([^"]*)"/)?.[1] ?? '';
    if (name && type === 'hidden') fields[name] = unescape(value);
    if (name === 'login' || name === 'password') fields[name] = null;
  }
  return { action: unescape(form[1]), fields };
}

/**
 * Follows an authorization URL through the OP's login and consent pages as `login` and
 * returns the URL it finally redirects to (the relying party's callback, with `code`,
 * `state` and `iss`). `callbackPrefix` says where the relying party's callbacks start.
 */
export async function driveLogin(authUrl, { login, callbackPrefix }) {
  const jar = new CookieJar();
  let url = authUrl;
  let init = {};
  for (let step = 0; step < 20; step++) {
    const headers = new Headers(init.headers);
    const cookie = jar.header();
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(10000) });
    jar.store(res.headers.getSetCookie());
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location'), url).toString();
      await res.text();
      if (next.startsWith(callbackPrefix)) return next;
      url = next;
      init = {};
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`the OP answered ${res.status} at ${url}: ${html.slice(0, 300)}`);
    const form = firstForm(html);
    if (!form) throw new Error(`no form at ${url}: ${html.slice(0, 300)}`);
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form.fields)) {
      if (k === 'login') body.set(k, login);
      else if (k === 'password') body.set(k, 'any password');
      else body.set(k, v);
    }
    url = new URL(form.action, url).toString();
    init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() };
  }
  throw new Error('the OP did not redirect back within 20 steps');
}

/** A GitHub-shaped OAuth 2.0 server (see the file comment). Returns { url, stop }. */
export async function startGithubLike() {
  const codes = new Map();
  const tokens = new Map();
  let githubId = 1000;
  const ids = new Map();
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    const json = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && u.pathname === '/login/oauth/authorize') {
      const login = u.searchParams.get('login_hint') ?? 'alice';
      if (u.searchParams.get('client_id') !== CLIENT_ID || u.searchParams.get('code_challenge_method') !== 'S256') {
        return json(400, { error: 'invalid_request' });
      }
      const code = crypto.randomBytes(16).toString('hex');
      codes.set(code, {
        login,
        redirect: u.searchParams.get('redirect_uri'),
        challenge: u.searchParams.get('code_challenge'),
      });
      const back = new URL(u.searchParams.get('redirect_uri'));
      back.searchParams.set('code', code);
      back.searchParams.set('state', u.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (req.method === 'POST' && u.pathname === '/login/oauth/access_token') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const form = new URLSearchParams(raw);
      if (form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== CLIENT_SECRET) {
        return json(401, { error: 'incorrect_client_credentials' });
      }
      const grant = codes.get(form.get('code'));
      codes.delete(form.get('code'));
      const computed = crypto.createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
      if (!grant || grant.redirect !== form.get('redirect_uri') || computed !== grant.challenge) {
        return json(200, { error: 'bad_verification_code' });
      }
      const token = `gho_${crypto.randomBytes(16).toString('hex')}`;
      tokens.set(token, grant.login);
      return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const login = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (req.method === 'GET' && login && u.pathname === '/api/user') {
      if (!ids.has(login)) ids.set(login, (githubId += 1));
      return json(200, { id: ids.get(login), login, name: ACCOUNTS[login]?.name ?? login, email: null, avatar_url: null });
    }
    if (req.method === 'GET' && login && u.pathname === '/api/user/emails') {
      const a = ACCOUNTS[login];
      return json(200, [{ email: a.email, primary: true, verified: a.email_verified, visibility: 'public' }]);
    }
    json(404, { message: 'Not Found' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
