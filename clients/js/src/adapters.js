// Framework helpers. None imports its framework: each speaks that framework's request and
// response shapes, so @tessera/verify depends on `jose` alone and the web-standard parts
// (Hono, Next.js route handlers and middleware) run on edge runtimes too.

import { Forbidden, MfaRequired, VerifyError } from './errors.js';

/** Raises Forbidden (403, the same body whether or not that user exists) unless `claims.sub === userId`. */
export function requireOwner(claims, userId) {
  if (claims.sub !== userId) throw new Forbidden();
  return claims;
}

/**
 * Raises MfaRequired (401, `WWW-Authenticate: Bearer error="insufficient_user_authentication"`)
 * unless the token's `amr` claim contains "mfa". Tessera adds `amr` with its two-factor
 * feature; until then every token is refused here.
 */
export function requireMfa(claims) {
  if (!claims.amr?.includes('mfa')) throw new MfaRequired();
  return claims;
}

/** `{ status, headers, body }` of an error thrown by verification or the guards; rethrows anything else. */
export function errorAnswer(error) {
  if (error instanceof VerifyError || error instanceof Forbidden || error instanceof MfaRequired) {
    return { status: error.status, headers: { ...error.headers }, body: error.body };
  }
  throw error;
}

/** A web-standard Response for such an error. */
export function errorResponse(error) {
  const { status, headers, body } = errorAnswer(error);
  return Response.json(body, { status, headers });
}

/** All `Authorization` values of a Node request (Node folds repeated ones; rawHeaders keeps them). */
function nodeAuthorization(req) {
  const raw = req.rawHeaders;
  if (Array.isArray(raw)) {
    const values = [];
    for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i].toLowerCase() === 'authorization') values.push(raw[i + 1]);
    return values;
  }
  return req.headers?.authorization;
}

/**
 * The claims of a web-standard Request (Next.js route handlers and middleware, Hono, Bun,
 * Deno, workers); rejects with VerifyError.
 */
export function verifyRequest(verifier, request) {
  return verifier.verifyAuthorization(request.headers.get('authorization') ?? undefined);
}

/**
 * Express (4 and 5) middleware: sets `req.auth` to the claims, or answers 401/400/503.
 * `owner: 'user_id'` also requires the route parameter of that name to be the subject (403);
 * `mfa: true` requires a second factor.
 */
export function expressAuth(verifier, { owner, mfa = false } = {}) {
  return async (req, res, next) => {
    try {
      const claims = await verifier.verifyAuthorization(nodeAuthorization(req));
      if (owner) requireOwner(claims, req.params?.[owner]);
      if (mfa) requireMfa(claims);
      req.auth = claims;
    } catch (error) {
      let answer;
      try {
        answer = errorAnswer(error);
      } catch (other) {
        return next(other);
      }
      return res.status(answer.status).set(answer.headers).json(answer.body);
    }
    return next();
  };
}

/** Fastify `preHandler` hook: sets `request.auth`, or answers. Options as expressAuth. */
export function fastifyAuth(verifier, { owner, mfa = false } = {}) {
  return async (request, reply) => {
    try {
      const claims = await verifier.verifyAuthorization(nodeAuthorization(request.raw ?? request));
      if (owner) requireOwner(claims, request.params?.[owner]);
      if (mfa) requireMfa(claims);
      request.auth = claims;
    } catch (error) {
      const { status, headers, body } = errorAnswer(error);
      return reply.code(status).headers(headers).send(body);
    }
  };
}

/** Hono middleware: `c.get('auth')` is the claims afterwards. Options as expressAuth. */
export function honoAuth(verifier, { owner, mfa = false } = {}) {
  return async (c, next) => {
    try {
      const claims = await verifyRequest(verifier, c.req.raw);
      if (owner) requireOwner(claims, c.req.param(owner));
      if (mfa) requireMfa(claims);
      c.set('auth', claims);
    } catch (error) {
      return errorResponse(error);
    }
    await next();
  };
}

/**
 * Wraps a Next.js route handler (App Router): `handler(request, context, claims)` runs only
 * for a verified caller. `owner: 'user_id'` checks `(await context.params)[owner]`.
 */
export function withAuth(verifier, handler, { owner, mfa = false } = {}) {
  return async (request, context) => {
    let claims;
    try {
      claims = await verifyRequest(verifier, request);
      if (owner) requireOwner(claims, (await context?.params)?.[owner]);
      if (mfa) requireMfa(claims);
    } catch (error) {
      return errorResponse(error);
    }
    return handler(request, context, claims);
  };
}
