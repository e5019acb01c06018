// The claim rules of crates/tessera-verify/src/claims.rs.

import { VerifyError } from './errors.js';

const I64_MAX = 2 ** 63 - 1;
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

function numericDate(raw, nonInteger, name) {
  if (!has(raw, name)) return undefined;
  const v = raw[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || nonInteger.has(name) || v < 0 || v > I64_MAX) {
    throw new VerifyError('invalid_claim', `invalid claim \`${name}\``, { claim: name });
  }
  return v;
}

function strictString(raw, name) {
  if (!has(raw, name)) return undefined;
  if (typeof raw[name] !== 'string') throw new VerifyError('invalid_claim', `invalid claim \`${name}\``, { claim: name });
  return raw[name];
}

const looseString = (raw, name) => (typeof raw[name] === 'string' ? raw[name] : undefined);

export function checkTimes(exp, nbf, iat, now, rules) {
  if (now >= exp + rules.leeway) throw new VerifyError('expired', 'token expired');
  if (nbf !== undefined && nbf > now + rules.leeway) throw new VerifyError('not_yet_valid', 'token not yet valid');
  if (iat !== undefined && iat > now + rules.leeway) throw new VerifyError('issued_in_future', 'token issued in the future');
  const fromIat = iat !== undefined ? exp - iat : 0;
  if (fromIat > rules.maxLifetime || exp - now > rules.maxLifetime + rules.leeway) {
    throw new VerifyError('invalid_claim', 'lifetime too long', { claim: 'exp' });
  }
}

/** Checks the claims of a token whose signature verified; returns the Claims object. */
export function validate(raw, nonInteger, now, rules, kid, alg) {
  const exp = numericDate(raw, nonInteger, 'exp');
  if (exp === undefined) throw new VerifyError('missing_claim', 'missing claim `exp`', { claim: 'exp' });
  const nbf = numericDate(raw, nonInteger, 'nbf');
  const iat = numericDate(raw, nonInteger, 'iat');
  checkTimes(exp, nbf, iat, now, rules);

  if (!has(raw, 'iss')) throw new VerifyError('missing_claim', 'missing claim `iss`', { claim: 'iss' });
  if (typeof raw.iss !== 'string' || raw.iss !== rules.issuer) throw new VerifyError('wrong_issuer', 'wrong issuer');

  if (!has(raw, 'aud')) throw new VerifyError('missing_claim', 'missing claim `aud`', { claim: 'aud' });
  let aud;
  if (typeof raw.aud === 'string') aud = [raw.aud];
  else if (Array.isArray(raw.aud) && raw.aud.every((a) => typeof a === 'string')) aud = [...raw.aud];
  else throw new VerifyError('invalid_claim', 'invalid claim `aud`', { claim: 'aud' });
  if (!aud.some((a) => rules.audiences.includes(a))) throw new VerifyError('wrong_audience', 'wrong audience');

  if (!has(raw, 'sub')) throw new VerifyError('missing_claim', 'missing claim `sub`', { claim: 'sub' });
  if (typeof raw.sub !== 'string' || raw.sub === '') throw new VerifyError('invalid_claim', 'invalid claim `sub`', { claim: 'sub' });

  const sid = strictString(raw, 'sid');
  const jti = strictString(raw, 'jti');
  const amr = Array.isArray(raw.amr) ? raw.amr.filter((m) => typeof m === 'string') : [];
  return Object.freeze({
    sub: raw.sub,
    sid,
    jti,
    email: looseString(raw, 'email'),
    name: looseString(raw, 'name'),
    iat,
    exp,
    nbf,
    iss: raw.iss,
    aud,
    amr,
    kid,
    alg,
    raw,
  });
}
