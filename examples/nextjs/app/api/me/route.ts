// GET /api/me: the signed-in user as this Next.js server sees them, from the access token
// alone (verified by @tessera/verify). The tasks page greets the user with it.

import { errorResponse, verifyRequest } from "@tessera/verify";

import { tesseraVerifier } from "@/lib/verify-access-token";

export async function GET(request: Request) {
  try {
    // 401 without a Bearer token or with a bad, expired or revoked one; 503 if Tessera's
    // keys were never reachable (the caller did nothing wrong)
    const claims = await verifyRequest(tesseraVerifier(), request);
    return Response.json(
      { id: claims.sub, name: claims.name ?? null, email: claims.email ?? null, sessionId: claims.sid ?? null },
      { headers: { "cache-control": "no-store" } },
    );
  } catch (error) {
    return errorResponse(error);
  }
}
