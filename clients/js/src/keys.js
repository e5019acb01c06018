// JWK documents and prepared keys (the rules of crates/tessera-verify/src/keys.rs). Each key is
// bound to exactly one algorithm when loaded; signatures are checked by `jose` with that
// algorithm pinned.

import { compactVerify, importJWK } from 'jose';

import { ConfigError } from './errors.js';
import { b64decode } from './jws.js';

/** Minimum HS256 secret length: the hash output size (RFC 7518 §3.2, RFC 8725 §3.5). */
export const MIN_HS256_SECRET = 32;
const STRING_MEMBERS = ['kid', 'alg', 'use', 'crv', 'x', 'y', 'n', 'e'];

/** A key that verifies compact tokens with exactly one algorithm. */
export class VerifyingKey {
  constructor(alg, key) {
    this.alg = alg;
    Object.defineProperty(this, 'key', { value: key, enumerable: false }); // never printed
  }

  /** Whether the compact token's signature verifies (its header was vetted before). */
  async verify(token) {
    try {
      await compactVerify(token, this.key, { algorithms: [this.alg] });
      return true;
    } catch {
      return false;
    }
  }

  static hs256(secret) {
    const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : new Uint8Array(secret);
    if (bytes.length < MIN_HS256_SECRET) {
      throw new ConfigError(`the HS256 secret must be at least ${MIN_HS256_SECRET} bytes (got ${bytes.length})`);
    }
    return new VerifyingKey('HS256', bytes);
  }

  /** Prepares a public JWK, or throws an Error saying why it cannot be used. */
  static async fromJwk(jwk) {
    if (jwk.use != null && jwk.use !== 'sig') throw new Error('`use` is not `sig`');
    if (jwk.key_ops != null && !jwk.key_ops.includes('verify')) throw new Error('`key_ops` lacks `verify`');
    const { kty, crv } = jwk;
    let alg = jwk.alg ?? null;
    if (kty === 'oct') throw new Error('symmetric (`oct`) keys are never used from a key set');
    if (kty === 'OKP' && (alg === 'EdDSA' || alg === null) && crv === 'Ed25519') alg = 'EdDSA';
    else if (kty === 'EC' && (alg === 'ES256' || alg === null) && crv === 'P-256') alg = 'ES256';
    else if (kty === 'RSA' && alg === 'RS256') alg = 'RS256';
    else if (kty === 'RSA' && alg === null) throw new Error('RSA key without `alg` (ambiguous: RS256 or PS256)');
    else throw new Error('unsupported kty/crv/alg combination');
    const member = (name) => {
      if (jwk[name] == null) throw new Error('a required key member is missing');
      const bytes = b64decode(jwk[name]);
      if (bytes === null) throw new Error('a key member is not base64url');
      return bytes;
    };
    let pub;
    if (alg === 'EdDSA') {
      if (member('x').length !== 32) throw new Error('Ed25519 `x` is not 32 bytes');
      pub = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
    } else if (alg === 'ES256') {
      if (member('x').length !== 32 || member('y').length !== 32) throw new Error('P-256 coordinates are not 32 bytes');
      pub = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
    } else {
      const n = member('n');
      member('e');
      let start = 0;
      while (start < n.length && n[start] === 0) start++;
      const len = n.length - start;
      if (len < 256) throw new Error('RSA modulus shorter than 2048 bits');
      if (len > 1024) throw new Error('RSA modulus longer than 8192 bits');
      pub = { kty: 'RSA', n: jwk.n, e: jwk.e };
    }
    let key;
    try {
      key = await importJWK(pub, alg);
    } catch (e) {
      throw new Error(`public key rejected by the crypto library: ${e.message}`);
    }
    return new VerifyingKey(alg, key);
  }
}

function wellFormed(entry) {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry) || typeof entry.kty !== 'string') return false;
  for (const name of STRING_MEMBERS) {
    if (entry[name] != null && typeof entry[name] !== 'string') return false;
  }
  const ops = entry.key_ops;
  return ops == null || (Array.isArray(ops) && ops.every((o) => typeof o === 'string'));
}

/**
 * Prepared keys by kid: unusable entries are skipped; with a kid twice, the first usable key
 * wins. Throws ConfigError when the document is not an object with a `keys` array.
 */
export async function prepareKeySet(jwks) {
  const doc = typeof jwks === 'string' ? parseJwks(jwks) : jwks;
  if (doc === null || typeof doc !== 'object' || !Array.isArray(doc.keys)) {
    throw new ConfigError('invalid JWKS: not an object with a `keys` array');
  }
  const keys = new Map();
  for (const entry of doc.keys) {
    if (!wellFormed(entry) || typeof entry.kid !== 'string' || keys.has(entry.kid)) continue;
    try {
      keys.set(entry.kid, await VerifyingKey.fromJwk(entry));
    } catch {
      // skipped: not usable here
    }
  }
  return keys;
}

function parseJwks(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`invalid JWKS: ${e.message}`);
  }
}
