// The Better Auth React client, pointed at Tessera. Tessera speaks Better Auth's HTTP
// protocol, so this is the same client a Next.js app would use with a Better Auth server.
"use client";

import { jwtClient } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/react";

import { tesseraUrl } from "./config";

export const authClient = createAuthClient({
  baseURL: tesseraUrl,
  // token() and jwks(): short-lived access tokens for the backend
  plugins: [jwtClient()],
  fetchOptions: {
    // Tessera is another origin: send its session cookie along (Tessera answers CORS
    // with Access-Control-Allow-Credentials for the origins in --trusted-origins).
    credentials: "include",
  },
});

export const { useSession, signIn, signUp, signOut } = authClient;
