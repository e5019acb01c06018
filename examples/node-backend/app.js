// An Express tasks backend: GET/POST /api/:user_id/tasks, only for the caller whose access
// token says they are :user_id. Every token rule lives in @tessera/verify.

import express from 'express';
import { RevocationFeed, Verifier, expressAuth } from '@tessera/verify';

/**
 * Settings from the environment: TESSERA_JWKS_URL or TESSERA_JWT_SECRET; TESSERA_ISSUER
 * (default: the JWKS URL's origin), TESSERA_AUDIENCE (default: the issuer);
 * TESSERA_REVOCATIONS_SECRET (+ TESSERA_REVOCATIONS_URL, TESSERA_REVOCATIONS_INTERVAL_MS) to
 * follow the revocation feed; TESSERA_JWKS_COOLDOWN_MS.
 */
export function settingsFromEnv(env = process.env) {
  const jwksUrl = env.TESSERA_JWKS_URL || undefined;
  const issuer = env.TESSERA_ISSUER || (jwksUrl ? new URL(jwksUrl).origin : undefined);
  if (!issuer) throw new Error("set TESSERA_ISSUER (Tessera's base URL origin, e.g. http://127.0.0.1:8080)");
  return {
    issuer,
    audience: env.TESSERA_AUDIENCE || issuer,
    jwksUrl,
    jwtSecret: env.TESSERA_JWT_SECRET || undefined,
    revocationsUrl: env.TESSERA_REVOCATIONS_URL || `${issuer}/api/auth/revocations`,
    revocationsSecret: env.TESSERA_REVOCATIONS_SECRET || undefined,
    revocationsIntervalMs: Number(env.TESSERA_REVOCATIONS_INTERVAL_MS || 1000),
    jwksCooldownMs: Number(env.TESSERA_JWKS_COOLDOWN_MS || 30_000),
  };
}

export function createApp(settings) {
  const feed = settings.revocationsSecret
    ? new RevocationFeed(settings.revocationsUrl, { secret: settings.revocationsSecret, intervalMs: settings.revocationsIntervalMs })
    : undefined;
  const verifier = new Verifier({
    issuer: settings.issuer,
    audience: settings.audience,
    jwksUrl: settings.jwksUrl,
    hs256Secret: settings.jwtSecret,
    jwksCooldownMs: settings.jwksCooldownMs,
    revocation: feed,
  });

  const tasks = new Map(); // owner -> tasks (in memory; use your database)
  const app = express();
  app.use(express.json({ limit: '16kb' }));
  const owner = expressAuth(verifier, { owner: 'user_id' });

  app.get('/api/:user_id/tasks', owner, (req, res) => {
    res.json([...(tasks.get(req.auth.sub) ?? [])].reverse());
  });

  app.post('/api/:user_id/tasks', owner, (req, res) => {
    const title = req.body?.title;
    if (typeof title !== 'string' || title.length < 1 || title.length > 200) {
      return res.status(400).json({ message: '[body.title] must be 1 to 200 characters', code: 'VALIDATION_ERROR' });
    }
    const now = new Date().toISOString();
    // the owner is the token's subject, whatever the body says
    const task = { id: crypto.randomUUID(), userId: req.auth.sub, title, completed: false, createdAt: now, updatedAt: now };
    tasks.set(req.auth.sub, [...(tasks.get(req.auth.sub) ?? []), task]);
    return res.status(201).json(task);
  });

  app.close = () => {
    feed?.close();
    verifier.close();
  };
  app.feed = feed;
  return app;
}
