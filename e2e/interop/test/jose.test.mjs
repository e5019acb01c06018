// 1c. Tessera's access tokens verify in Node's `jose`, the way Better Auth's docs tell a
// backend to verify: createRemoteJWKSet + jwtVerify with issuer and audience, and for
// HS256 with the shared secret.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

import { JWT_SECRET, accessToken, decodeJwt, signUpRaw, startTessera } from '../lib/tessera.mjs';

const keys = (o) => Object.keys(o).sort();
const CLAIMS = ['amr', 'aud', 'auth_time', 'email', 'emailVerified', 'exp', 'iat', 'iss', 'jti', 'name', 'sid', 'sub'];

/** The exact public JWK members Tessera publishes per algorithm. */
const JWK_MEMBERS = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['alg', 'crv', 'kid', 'kty', 'x'] },
  ES256: { kty: 'EC', crv: 'P-256', members: ['alg', 'crv', 'kid', 'kty', 'x', 'y'] },
  RS256: { kty: 'RSA', crv: undefined, members: ['alg', 'e', 'kid', 'kty', 'n'] },
};

for (const alg of ['EdDSA', 'ES256', 'RS256']) {
  describe(`jose verifies Tessera ${alg} tokens through the JWKS`, () => {
    let tessera;
    let base;
    let user;
    let token;
    let JWKS;

    before(async () => {
      tessera = await startTessera({ args: alg === 'EdDSA' ? [] : ['--jwt-alg', alg] });
      base = tessera.baseURL;
      const signedUp = await signUpRaw(base, { name: `jose ${alg}` });
      user = signedUp.user;
      token = await accessToken(base, signedUp.token);
      JWKS = createRemoteJWKSet(new URL(`${base}/api/auth/jwks`), { timeoutDuration: 5000 });
    });

    after(async () => {
      await tessera?.stop();
    });

    it('the JWKS publishes exactly one key of that algorithm', async () => {
      const res = await fetch(`${base}/api/auth/jwks`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^application\/json/);
      const jwks = await res.json();
      assert.deepEqual(keys(jwks), ['keys']);
      assert.equal(jwks.keys.length, 1);
      const [jwk] = jwks.keys;
      assert.deepEqual(keys(jwk), JWK_MEMBERS[alg].members);
      assert.equal(jwk.alg, alg);
      assert.equal(jwk.kty, JWK_MEMBERS[alg].kty);
      assert.equal(jwk.crv, JWK_MEMBERS[alg].crv);
      assert.equal(jwk.kid, decodeJwt(token).header.kid);
    });

    it('jwtVerify(createRemoteJWKSet) with issuer, audience, typ and algorithm pinned', async () => {
      const { payload, protectedHeader } = await jwtVerify(token, JWKS, {
        issuer: base,
        audience: base,
        algorithms: [alg],
        typ: 'at+jwt',
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'sid'],
      });
      assert.deepEqual(keys(protectedHeader), ['alg', 'kid', 'typ']);
      assert.equal(protectedHeader.alg, alg);
      assert.deepEqual(keys(payload), CLAIMS);
      assert.equal(payload.sub, user.id);
      assert.equal(payload.email, user.email);
      assert.equal(payload.name, user.name);
      assert.equal(payload.emailVerified, false);
      assert.equal(payload.exp - payload.iat, 900);
      assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60);
    });

    it('the set-auth-jwt header of get-session verifies the same way', async () => {
      const signedUp = await signUpRaw(base);
      const res = await fetch(`${base}/api/auth/get-session`, { headers: { authorization: `Bearer ${signedUp.token}` } });
      const jwt = res.headers.get('set-auth-jwt');
      assert.ok(jwt);
      const { payload } = await jwtVerify(jwt, JWKS, { issuer: base, audience: base, algorithms: [alg] });
      assert.equal(payload.sub, signedUp.user.id);
    });

    it('jose rejects a wrong audience, a wrong issuer and another algorithm', async () => {
      await assert.rejects(
        jwtVerify(token, JWKS, { issuer: base, audience: 'https://api.other.example' }),
        (e) => e instanceof errors.JWTClaimValidationFailed && e.claim === 'aud' && e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      );
      await assert.rejects(
        jwtVerify(token, JWKS, { issuer: 'https://evil.example', audience: base }),
        (e) => e instanceof errors.JWTClaimValidationFailed && e.claim === 'iss',
      );
      const other = alg === 'EdDSA' ? 'ES256' : 'EdDSA';
      await assert.rejects(
        jwtVerify(token, JWKS, { issuer: base, audience: base, algorithms: [other] }),
        (e) => e instanceof errors.JOSEAlgNotAllowed,
      );
    });

    it('jose rejects a token with one payload character changed', async () => {
      const [h, p, s] = token.split('.');
      const json = Buffer.from(p, 'base64url').toString();
      const forged = json.replace(`"sub":"${user.id}"`, `"sub":"${user.id.slice(0, -1)}${user.id.endsWith('a') ? 'b' : 'a'}"`);
      assert.notEqual(forged, json);
      await assert.rejects(
        jwtVerify(`${h}.${Buffer.from(forged).toString('base64url')}.${s}`, JWKS, { issuer: base, audience: base }),
        errors.JWSSignatureVerificationFailed,
      );
    });
  });
}

describe('jose verifies Tessera HS256 tokens with the shared secret', () => {
  let tessera;
  let base;
  let user;
  let token;
  const secret = new TextEncoder().encode(JWT_SECRET);

  before(async () => {
    tessera = await startTessera({ args: ['--jwt-alg', 'HS256', '--jwt-secret', JWT_SECRET] });
    base = tessera.baseURL;
    const signedUp = await signUpRaw(base, { name: 'jose HS256' });
    user = signedUp.user;
    token = await accessToken(base, signedUp.token);
  });

  after(async () => {
    await tessera?.stop();
  });

  it('the JWKS is empty: nothing public to publish', async () => {
    const res = await fetch(`${base}/api/auth/jwks`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{"keys":[]}');
  });

  it('jwtVerify(token, TextEncoder(secret)) with issuer and audience', async () => {
    const { payload, protectedHeader } = await jwtVerify(token, secret, {
      issuer: base,
      audience: base,
      algorithms: ['HS256'],
      typ: 'at+jwt',
    });
    assert.deepEqual(protectedHeader, { alg: 'HS256', typ: 'at+jwt' });
    assert.deepEqual(keys(payload), CLAIMS);
    assert.equal(payload.sub, user.id);
    assert.equal(payload.email, user.email);
  });

  it('jose rejects a wrong audience and a wrong secret', async () => {
    await assert.rejects(
      jwtVerify(token, secret, { issuer: base, audience: 'https://api.other.example' }),
      (e) => e instanceof errors.JWTClaimValidationFailed && e.claim === 'aud',
    );
    await assert.rejects(
      jwtVerify(token, new TextEncoder().encode(`${JWT_SECRET}-not`), { issuer: base, audience: base }),
      errors.JWSSignatureVerificationFailed,
    );
  });
});
