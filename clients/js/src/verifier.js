// The verifier: one key source, the claim rules, an optional revocation check.

import { validate } from './claims.js';
import { ConfigError, VerifyError, malformed } from './errors.js';
import { parseObject } from './json.js';
import { MAX_TOKEN_LEN, decodePart, parseHeader, split } from './jws.js';
import { VerifyingKey, prepareKeySet } from './keys.js';
import { RemoteJwks } from './remote.js';

export const DEFAULT_LEEWAY = 30;
export const MAX_LEEWAY = 300;
export const DEFAULT_MAX_LIFETIME = 24 * 60 * 60;

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1). Pass the header's
 * value, or all its values when the framework keeps repeats.
 */
export function bearerToken(authorization) {
  const values = authorization == null ? [] : Array.isArray(authorization) ? authorization : [authorization];
  if (values.length === 0) throw new VerifyError('missing', 'no bearer credentials');
  if (values.length > 1) throw new VerifyError('invalid_request', 'more than one Authorization header');
  const value = String(values[0]);
  const space = value.indexOf(' ');
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') throw new VerifyError('missing', 'no bearer credentials');
  if (space === -1) throw malformed('empty bearer token');
  const token = value.slice(space + 1);
  if (token.length > MAX_TOKEN_LEN) throw malformed('token too long');
  if (token === '' || token.includes(' ')) throw malformed('bearer credentials are not one token');
  return token;
}

export class Verifier {
  /**
   * Exactly one key source: `hs256Secret`, `jwks` (a fixed JWKS object or JSON text) or
   * `jwksUrl` (Tessera's /api/auth/jwks, fetched and cached). `issuer` and `audience` are
   * required. Use `await Verifier.create(options)`, or `new Verifier(options)` and await
   * `verifier.ready` before the first verification with a fixed JWKS.
   */
  constructor({
    issuer,
    audience,
    hs256Secret,
    jwks,
    jwksUrl,
    leeway = DEFAULT_LEEWAY,
    maxLifetime = DEFAULT_MAX_LIFETIME,
    jwksCooldownMs = 30_000,
    jwksRefreshIntervalMs = 300_000,
    httpTimeoutMs = 5000,
    jwksMaxBytes = 256 * 1024,
    revocation,
    clock = () => Date.now() / 1000,
    logger = console,
  } = {}) {
    const audiences = typeof audience === 'string' ? [audience] : Array.isArray(audience) ? [...audience] : [];
    if (typeof issuer !== 'string' || !issuer) throw new ConfigError('an issuer is required');
    if (audiences.length === 0 || !audiences.every((a) => typeof a === 'string' && a)) {
      throw new ConfigError('at least one non-empty audience is required');
    }
    if (!(leeway >= 0 && leeway <= MAX_LEEWAY)) throw new ConfigError(`leeway must be between 0 and ${MAX_LEEWAY} seconds`);
    if (!(maxLifetime >= 1)) throw new ConfigError('maxLifetime must be at least one second');
    if (!(httpTimeoutMs > 0) || !(jwksMaxBytes > 0) || !(jwksCooldownMs >= 0)) {
      throw new ConfigError('httpTimeoutMs and jwksMaxBytes must be positive, jwksCooldownMs not negative');
    }
    const sources = [hs256Secret, jwks, jwksUrl].filter((s) => s !== undefined && s !== null);
    if (sources.length === 0) throw new ConfigError('a key source is required (hs256Secret, jwks or jwksUrl)');
    if (sources.length > 1) throw new ConfigError('exactly one key source may be configured');
    this.issuer = issuer;
    this.audiences = audiences;
    this.rules = { issuer, audiences, leeway: Math.floor(leeway), maxLifetime: Math.floor(maxLifetime) };
    this.revocation = revocation;
    this.clock = clock;
    this.single = null;
    this.static = null;
    this.remote = null;
    if (hs256Secret != null) {
      this.single = VerifyingKey.hs256(hs256Secret);
      this.ready = Promise.resolve(this);
    } else if (jwks != null) {
      this.ready = prepareKeySet(jwks).then((keys) => {
        if (keys.size === 0) throw new ConfigError('the JWKS contains no usable signing key');
        this.static = keys;
        return this;
      });
      this.ready.catch(() => {}); // reported by create() / verify()
    } else {
      this.remote = new RemoteJwks(jwksUrl, {
        cooldownMs: jwksCooldownMs,
        refreshIntervalMs: jwksRefreshIntervalMs,
        timeoutMs: httpTimeoutMs,
        maxBytes: jwksMaxBytes,
        logger,
      });
      this.ready = Promise.resolve(this);
    }
  }

  /** Builds a verifier and waits until a fixed JWKS is prepared (throws ConfigError otherwise). */
  static async create(options) {
    return new Verifier(options).ready;
  }

  /** Fetches a remote JWKS now (e.g. at startup); rejects with `keys_unavailable` on failure. */
  async refreshKeys() {
    if (this.remote) return this.remote.refresh();
    await this.ready;
    return this.single ? 1 : this.static.size;
  }

  /** Reads the bearer token from the `Authorization` header value(s) and verifies it. */
  async verifyAuthorization(authorization) {
    return this.verify(bearerToken(authorization));
  }

  /**
   * Verifies a compact JWS access token: resolves to its claims or rejects with a
   * VerifyError saying which check failed. Steps as the Rust crate: length → three base64url
   * parts → header → the key bound to `kid` (its algorithm must equal `alg`) → signature →
   * claims → revocation.
   */
  async verify(token) {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LEN) throw malformed('token too long');
    const now = Math.floor(this.clock());
    const parts = split(token);
    const header = parseHeader(decodePart(parts.header, 'header is not base64url'));
    let key;
    if (this.single) {
      key = this.single; // one key; a kid in the token is ignored
    } else {
      if (header.kid === undefined) throw new VerifyError('unknown_key', 'a key set needs a kid');
      const keys = this.remote ? await this.remote.keySetFor(header.kid) : (await this.ready, this.static);
      key = keys.get(header.kid);
      if (!key) throw new VerifyError('unknown_key', 'unknown signing key');
    }
    // The key fixes the algorithm; the header must agree exactly (RFC 8725 §3.1).
    if (key.alg !== header.alg) throw new VerifyError('algorithm_not_allowed', "alg is not the key's algorithm");
    decodePart(parts.signature, 'signature is not base64url');
    if (!(await key.verify(token))) throw new VerifyError('bad_signature', 'bad signature');
    const parsed = parseObject(decodePart(parts.payload, 'payload is not base64url'));
    if (parsed === null) throw malformed('payload is not a JSON object');
    const claims = validate(parsed.value, parsed.nonInteger, now, this.rules, header.kid, header.alg);
    if (this.isRevoked(claims)) throw new VerifyError('revoked', 'token revoked');
    return claims;
  }

  isRevoked(claims) {
    const check = this.revocation;
    if (!check) return false;
    if (typeof check.isRevoked === 'function') return Boolean(check.isRevoked(claims));
    return Boolean(check(claims));
  }

  /** Stops background work (the JWKS refresh timer). */
  close() {
    this.remote?.close();
  }
}
