// @tessera/verify: verify Tessera (and Better Auth) access tokens in JavaScript backends with
// the rules of the Rust crate `tessera-verify`. See README.md.

export { ConfigError, Forbidden, MfaRequired, VerifyError } from './errors.js';
export { MAX_TOKEN_LEN } from './jws.js';
export { DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, MAX_LEEWAY, Verifier, bearerToken } from './verifier.js';
export { RevocationFeed, RevokedSessions } from './feed.js';
export {
  errorAnswer,
  errorResponse,
  expressAuth,
  fastifyAuth,
  honoAuth,
  requireMfa,
  requireOwner,
  verifyRequest,
  withAuth,
} from './adapters.js';
