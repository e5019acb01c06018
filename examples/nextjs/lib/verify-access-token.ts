// Server side: who is calling, from Tessera's access token, checked with @tessera/verify
// (the repository's JavaScript package, on jose) against Tessera's JWKS and, when the
// revocation secret is set, Tessera's revocation feed. For route handlers and server
// actions; never bundled for the browser.

import { RevocationFeed, Verifier } from "@tessera/verify";

import { tesseraUrl } from "./config";

let verifier: Verifier | undefined;

/**
 * The one verifier of this server process. Made on first use rather than at import, since
 * `next build` imports route modules and the revocation feed starts polling when made.
 */
export function tesseraVerifier(): Verifier {
  if (!verifier) {
    // Tessera's issuer and audience are its base URL's origin (unless it runs with
    // --jwt-issuer / --jwt-audience: then set TESSERA_ISSUER / TESSERA_AUDIENCE here too).
    const issuer = process.env.TESSERA_ISSUER ?? new URL(tesseraUrl).origin;
    // Tessera's --revocations-secret: with it, tokens of ended sessions are refused within
    // about a second; without it, they are accepted until they expire.
    const revocationsSecret = process.env.TESSERA_REVOCATIONS_SECRET;
    verifier = new Verifier({
      issuer,
      audience: process.env.TESSERA_AUDIENCE ?? issuer,
      // each key names its algorithm; a token signed any other way is refused
      jwksUrl: `${tesseraUrl}/api/auth/jwks`,
      revocation: revocationsSecret
        ? new RevocationFeed(`${tesseraUrl}/api/auth/revocations`, { secret: revocationsSecret })
        : undefined,
    });
  }
  return verifier;
}
