// Two-factor with the unmodified Better Auth client (`twoFactorClient`): enrol → sign out →
// sign in → twoFactorRedirect → verify, with a TOTP code and with a backup code. The same
// script runs against Tessera and against a real Better Auth 1.7 server with its twoFactor
// plugin; where the two differ (a replayed code, the extra `totpQR`, `amr` in tokens) the
// test says which answer each gives — docs/better-auth-differences.md lists them.
//
// Codes come from the npm `otpauth` package, an implementation independent of Tessera's.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { twoFactorClient } from 'better-auth/client/plugins';
import * as OTPAuth from 'otpauth';

import { startBetterAuth } from '../lib/better-auth.mjs';
import { makeClient } from '../lib/client.mjs';
import { decodeJwt, startTessera, uniqueEmail } from '../lib/tessera.mjs';

const PASSWORD = 'correct horse battery';
const keys = (o) => Object.keys(o).sort();

/** The code `otpauth` computes for the key in `uri`, `offset` steps from now. */
function code(uri, offset = 0) {
  const totp = OTPAuth.URI.parse(uri);
  return totp.generate({ timestamp: Date.now() + offset * 30_000 });
}

/** A client with twoFactorClient; `redirects` records each onTwoFactorRedirect call. */
function twoFactorDevice(baseURL) {
  const redirects = [];
  const device = makeClient(baseURL, {
    plugins: [twoFactorClient({ onTwoFactorRedirect: (ctx) => redirects.push(ctx) })],
  });
  return { ...device, redirects };
}

for (const server of ['tessera', 'better-auth']) {
  describe(`twoFactorClient against ${server}`, () => {
    let srv;
    let base;
    const email = uniqueEmail(`tf-${server}`);
    let uri;
    let backupCodes;
    let lastCode;

    before(async () => {
      srv = server === 'tessera' ? await startTessera() : await startBetterAuth({ twoFactor: true });
      base = srv.baseURL;
    });
    after(async () => {
      await srv?.stop();
    });

    it('enable answers the otpauth URI and ten backup codes; verifyTotp turns it on', async () => {
      const device = twoFactorDevice(base);
      const up = await device.client.signUp.email({ email, password: PASSWORD, name: 'Two Factor' });
      assert.equal(up.error, null, JSON.stringify(up.error));
      assert.equal(up.data.user.twoFactorEnabled, false);

      const wrong = await device.client.twoFactor.enable({ password: 'not the password' });
      assert.equal(wrong.error?.status, 400);
      assert.equal(wrong.error?.code, 'INVALID_PASSWORD');

      const res = await device.client.twoFactor.enable({ password: PASSWORD });
      assert.equal(res.error, null, JSON.stringify(res.error));
      const expected = ['backupCodes', 'totpURI'];
      if (server === 'tessera') expected.push('method', 'totpQR'); // documented extras
      assert.deepEqual(
        keys(res.data).filter((k) => expected.includes(k)),
        [...expected].sort(),
      );
      uri = res.data.totpURI;
      backupCodes = res.data.backupCodes;
      assert.match(uri, /^otpauth:\/\/totp\/Tessera:/);
      assert.equal(backupCodes.length, 10);
      if (server === 'tessera') {
        assert.match(res.data.totpQR, /^<\?xml[\s\S]*<svg/);
        // 160-bit key: 32 base32 characters
        assert.equal(OTPAuth.URI.parse(uri).secret.base32.length, 32);
      }

      lastCode = code(uri);
      const ok = await device.client.twoFactor.verifyTotp({ code: lastCode });
      assert.equal(ok.error, null, JSON.stringify(ok.error));
      assert.equal(typeof ok.data.token, 'string');
      // Better Auth answers with the session's user as it was before (twoFactorEnabled false).
      assert.equal(ok.data.user.twoFactorEnabled, server === 'tessera');
      if (server === 'tessera') {
        // Tessera replaced the session; Better Auth keeps it (its cached user still says false).
        const session = await device.client.getSession();
        assert.equal(session.data.user.twoFactorEnabled, true);
      }
      await device.client.signOut();
    });

    it('sign-in answers twoFactorRedirect with the two_factor cookie and no session', async () => {
      const device = twoFactorDevice(base);
      const res = await device.client.signIn.email({ email, password: PASSWORD });
      assert.equal(res.error, null, JSON.stringify(res.error));
      assert.equal(res.data.twoFactorRedirect, true);
      assert.ok(res.data.twoFactorMethods.includes('totp'), JSON.stringify(res.data));
      assert.equal(device.redirects.length, 1, 'onTwoFactorRedirect was called');
      assert.ok(device.jar.get('better-auth.two_factor'), 'the challenge cookie');
      assert.equal(device.jar.get('better-auth.session_token'), undefined);
      const session = await device.client.getSession();
      assert.equal(session.data, null);

      // A wrong code: INVALID_CODE, and the challenge stays usable.
      const bad = await device.client.twoFactor.verifyTotp({ code: lastCode === '000000' ? '111111' : '000000' });
      assert.equal(bad.error?.status, 401);
      assert.equal(bad.error?.code, 'INVALID_CODE');

      // The next step's code (inside the ±30 s window of both servers, and not a replay).
      lastCode = code(uri, 1);
      const ok = await device.client.twoFactor.verifyTotp({ code: lastCode, trustDevice: false });
      assert.equal(ok.error, null, JSON.stringify(ok.error));
      assert.deepEqual(keys(ok.data), ['token', 'user']);
      const now = await device.client.getSession();
      assert.equal(now.data.user.email, email);
      if (server === 'tessera') {
        const token = await device.client.token();
        const claims = decodeJwt(token.data.token).payload;
        assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
        assert.equal(typeof claims.auth_time, 'number');
      }
      await device.client.signOut();
    });

    it('the same TOTP code again: Tessera refuses it, Better Auth accepts it (its open #10387)', async () => {
      const device = twoFactorDevice(base);
      const res = await device.client.signIn.email({ email, password: PASSWORD });
      assert.equal(res.data?.twoFactorRedirect, true);
      const again = await device.client.twoFactor.verifyTotp({ code: lastCode });
      if (server === 'tessera') {
        assert.equal(again.error?.status, 401);
        assert.equal(again.error?.code, 'INVALID_CODE');
      } else {
        assert.equal(again.error, null, 'Better Auth 1.7 accepts a replayed code');
      }
    });

    it('a backup code finishes the sign-in once', async () => {
      const device = twoFactorDevice(base);
      const res = await device.client.signIn.email({ email, password: PASSWORD });
      assert.equal(res.data?.twoFactorRedirect, true);
      const ok = await device.client.twoFactor.verifyBackupCode({ code: backupCodes[0] });
      assert.equal(ok.error, null, JSON.stringify(ok.error));
      assert.equal(typeof ok.data.token, 'string');
      assert.equal(ok.data.user.email, email);
      await device.client.signOut();

      const second = twoFactorDevice(base);
      await second.client.signIn.email({ email, password: PASSWORD });
      const reused = await second.client.twoFactor.verifyBackupCode({ code: backupCodes[0] });
      assert.equal(reused.error?.status, 401);
      assert.equal(reused.error?.code, 'INVALID_BACKUP_CODE');
    });

    it('generateBackupCodes replaces the set; disable turns the challenge off', async () => {
      const device = twoFactorDevice(base);
      await device.client.signIn.email({ email, password: PASSWORD });
      const ok = await device.client.twoFactor.verifyBackupCode({ code: backupCodes[1] });
      assert.equal(ok.error, null, JSON.stringify(ok.error));

      const fresh = await device.client.twoFactor.generateBackupCodes({ password: PASSWORD });
      assert.equal(fresh.error, null, JSON.stringify(fresh.error));
      assert.equal(fresh.data.status, true);
      assert.equal(fresh.data.backupCodes.length, 10);

      const off = await device.client.twoFactor.disable({ password: PASSWORD });
      assert.equal(off.error, null, JSON.stringify(off.error));
      assert.equal(off.data.status, true);
      await device.client.signOut();

      const plain = twoFactorDevice(base);
      const res = await plain.client.signIn.email({ email, password: PASSWORD });
      assert.equal(res.error, null);
      assert.equal(typeof res.data.token, 'string', 'no challenge any more');
      assert.equal(plain.redirects.length, 0);
    });
  });
}
