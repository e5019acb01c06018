// GET /api/me: the signed-in user as this Next.js server sees them, from the access token
// alone (verified with jose against Tessera's JWKS). The tasks page greets the user with it.

import { bearerToken, isKeySetUnavailable, verifyAccessToken } from "@/lib/verify-access-token";

export async function GET(request: Request) {
  const token = bearerToken(request);
  if (!token) {
    return Response.json(
      { message: "Unauthorized", code: "UNAUTHORIZED" },
      { status: 401, headers: { "www-authenticate": "Bearer" } },
    );
  }
  try {
    const claims = await verifyAccessToken(token);
    return Response.json(
      { id: claims.sub, name: claims.name ?? null, email: claims.email ?? null, sessionId: claims.sid },
      { headers: { "cache-control": "no-store" } },
    );
  } catch (e) {
    if (isKeySetUnavailable(e)) {
      console.error("Tessera's JWKS is unavailable:", e);
      return Response.json(
        { message: "Token keys are unavailable; try again", code: "SERVICE_UNAVAILABLE" },
        { status: 503 },
      );
    }
    return Response.json(
      { message: "Invalid token", code: "INVALID_TOKEN" },
      { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } },
    );
  }
}
