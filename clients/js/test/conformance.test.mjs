// The shared conformance cases (conformance/cases/*.json), also run by the Rust crate and the
// Python package: same files, same outcomes.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { RevokedSessions, Verifier, VerifyError } from '../src/index.js';
import { startStub } from './stub.mjs';

const casesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../conformance/cases');
const files = fs.readdirSync(casesDir).filter((f) => f.endsWith('.json')).sort();
const quiet = { warn() {}, info() {} };

function build(c, jwksUrl) {
  const v = c.verifier;
  const options = {
    issuer: v.issuer,
    audience: v.audiences,
    leeway: v.leeway_seconds,
    maxLifetime: v.max_lifetime_seconds,
    clock: () => c.now,
    logger: quiet,
  };
  if (v.keys.hs256_secret !== undefined) options.hs256Secret = v.keys.hs256_secret;
  else if (v.keys.jwks !== undefined) options.jwks = v.keys.jwks;
  else {
    Object.assign(options, {
      jwksUrl,
      jwksCooldownMs: v.keys.remote_jwks.cooldown_seconds * 1000,
      jwksMaxBytes: v.keys.remote_jwks.max_bytes,
      jwksRefreshIntervalMs: 0,
      httpTimeoutMs: 5000,
    });
  }
  if (v.revoked_sessions) options.revocation = new RevokedSessions(v.revoked_sessions);
  return Verifier.create(options);
}

describe('conformance cases', () => {
  it('are there', () => assert.ok(files.length >= 100, `${files.length} cases`));

  for (const file of files) {
    const c = JSON.parse(fs.readFileSync(path.join(casesDir, file), 'utf8'));
    it(c.name, async () => {
      const remote = c.verifier.keys.remote_jwks !== undefined;
      const stub = remote ? await startStub() : null;
      try {
        const verifier = await build(c, stub ? `${stub.url}/jwks` : undefined);
        for (const [index, step] of c.steps.entries()) {
          const where = `${c.name} step ${index}`;
          if (stub && step.jwks_response) stub.response = step.jwks_response;
          const { expect } = step;
          let claims;
          try {
            claims = await verifier.verify(step.token);
          } catch (e) {
            assert.ok(e instanceof VerifyError, `${where}: threw ${e}`);
            assert.ok(!expect.ok, `${where}: refused as ${e.kind} (${e.detail})`);
            assert.equal(e.kind, expect.error, `${where}: refused as ${e.kind} (${e.detail})`);
            if (expect.claim) assert.equal(e.claim, expect.claim, where);
          }
          if (claims) {
            assert.ok(expect.ok, `${where}: accepted, expected ${expect.error}`);
            assert.deepEqual([claims.sub, claims.sid ?? null], [expect.sub, expect.sid], where);
          }
          if (stub && step.fetches !== undefined) assert.equal(stub.hits, step.fetches, `${where}: JWKS fetches`);
        }
      } finally {
        await stub?.close();
      }
    });
  }
});
