// Compact JWS parsing (RFC 7515 §7.1) and the protected header rules, in the order of the
// Rust crate (crates/tessera-verify/src/jws.rs). Nothing here trusts the token.

import { VerifyError, malformed } from './errors.js';
import { parseObject } from './json.js';

/** Longest token accepted, checked before any other work. */
export const MAX_TOKEN_LEN = 8 * 1024;
export const ALGORITHMS = ['HS256', 'EdDSA', 'ES256', 'RS256'];
const REFUSED_HEADER_MEMBERS = ['jwk', 'jku', 'x5u', 'x5c'];
const ACCESS_TOKEN_TYPES = ['jwt', 'at+jwt', 'application/at+jwt'];
const B64URL = /^[A-Za-z0-9_-]*$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/** Exactly three base64url parts; only the base64url alphabet and `.` anywhere. */
export function split(token) {
  if (token.length > MAX_TOKEN_LEN) throw malformed('token too long');
  if (!B64URL.test(token.replaceAll('.', ''))) throw malformed('character outside base64url');
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('not three dot-separated parts');
  const [header, payload, signature] = parts;
  if (!header || !payload) throw malformed('empty header or payload');
  return { signingInput: new TextEncoder().encode(`${header}.${payload}`), header, payload, signature };
}

/** Strict base64url without padding (impossible lengths and non-zero unused bits refused); `null` if not canonical. */
export function b64decode(part) {
  if (typeof part !== 'string' || part.length % 4 === 1 || !B64URL.test(part)) return null;
  const out = new Uint8Array(Math.floor((part.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of part) {
    acc = (acc << 6) | ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) return null; // unused trailing bits must be zero
  return out;
}

export function decodePart(part, what) {
  const bytes = b64decode(part);
  if (bytes === null) throw malformed(what);
  return bytes;
}

/** Vets the protected header: `{ alg, kid }`. */
export function parseHeader(bytes) {
  const parsed = parseObject(bytes);
  if (parsed === null) throw malformed('header is not a JSON object');
  const header = parsed.value;
  if (REFUSED_HEADER_MEMBERS.some((m) => has(header, m))) throw malformed('header names key material');
  if (has(header, 'crit')) throw malformed('unsupported critical header extension');
  if (has(header, 'enc') || has(header, 'zip')) throw malformed('JWE header');
  if (!has(header, 'alg')) throw malformed('header has no alg');
  const { alg } = header;
  if (typeof alg !== 'string' || !ALGORITHMS.includes(alg)) throw new VerifyError('algorithm_not_allowed', 'alg not allowed');
  if (has(header, 'kid') && typeof header.kid !== 'string') throw malformed('kid is not a string');
  if (has(header, 'typ')) {
    const { typ } = header;
    if (typeof typ !== 'string' || !ACCESS_TOKEN_TYPES.includes(typ.toLowerCase())) {
      throw new VerifyError('wrong_type', 'typ is not an access token type');
    }
  }
  return { alg, kid: has(header, 'kid') ? header.kid : undefined };
}
