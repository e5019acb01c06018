// Server side: who is calling, from Tessera's access token, checked with jose against
// Tessera's JWKS. For route handlers and server actions; never bundled for the browser.

import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";

import { tesseraUrl } from "./config";

// Tessera's issuer and audience are its base URL's origin (unless it runs with
// --jwt-issuer / --jwt-audience: then set TESSERA_ISSUER / TESSERA_AUDIENCE here too).
const issuer = process.env.TESSERA_ISSUER ?? new URL(tesseraUrl).origin;
const audience = process.env.TESSERA_AUDIENCE ?? issuer;
// Pinned, never taken from the token: Tessera's --jwt-alg (EdDSA unless changed).
const algorithm = process.env.TESSERA_JWT_ALG ?? "EdDSA";

// Fetched on first use, cached, and fetched again when a token names an unknown key.
const jwks = createRemoteJWKSet(new URL(`${tesseraUrl}/api/auth/jwks`));

export type AccessClaims = JWTPayload & {
  sub: string;
  sid: string;
  email?: string;
  name?: string;
};

/** The token's claims if Tessera signed it for us and it has not expired; throws otherwise. */
export async function verifyAccessToken(token: string): Promise<AccessClaims> {
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: [algorithm],
    typ: "at+jwt",
    requiredClaims: ["sub", "sid", "iat", "exp"],
  });
  return payload as AccessClaims;
}

/** Tessera could not be asked for its keys: the caller did nothing wrong (503, not 401). */
export function isKeySetUnavailable(e: unknown): boolean {
  return e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid || !(e instanceof errors.JOSEError);
}

/** The Bearer token of a request, or null. */
export function bearerToken(request: Request): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  return match ? match[1] : null;
}
