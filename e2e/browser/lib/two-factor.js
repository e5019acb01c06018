// Two-step verification for tests: RFC 6238 codes computed here (not by the server), and an
// enrolment through the API for set-up.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';

/** RFC 6238 code (SHA-1, 6 digits, 30 s) of the base32 key in an otpauth:// URI, now. */
export function totpNow(uri) {
  const secret = new URL(uri).searchParams.get('secret');
  const bytes = [];
  let acc = 0;
  let n = 0;
  for (const ch of secret) {
    acc = (acc << 5) | 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(ch);
    n += 5;
    if (n >= 8) {
      n -= 8;
      bytes.push((acc >>> n) & 0xff);
    }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const mac = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const at = mac[19] & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/**
 * Turns two-step verification on for `user` (who has a password) through the API, as the
 * Account page does; resolves to { totpURI, backupCodes }.
 */
export async function enrolTotp(baseUrl, user) {
  const call = async (path, body, cookie) => {
    const res = await fetch(`${baseUrl}/api/auth/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: baseUrl, ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return res;
  };
  const signedIn = await call('sign-in/email', { email: user.email, password: user.password });
  const cookie = signedIn.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const { totpURI, backupCodes } = await (await call('two-factor/enable', { password: user.password }, cookie)).json();
  await call('two-factor/verify-totp', { code: totpNow(totpURI) }, cookie);
  return { totpURI, backupCodes };
}
