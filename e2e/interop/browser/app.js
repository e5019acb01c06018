// The frontend of the real topology: a page on its own origin that signs in against
// Tessera with the unmodified Better Auth client, gets an access token with token(), and
// calls the tasks API with it. Bundled with esbuild by the browser test.
//
// The auth server's URL comes from ?tessera=...; the test drives the page through
// window.interop and reads each step's outcome (also listed on the page).

import { createAuthClient } from 'better-auth/client';
import { jwtClient } from 'better-auth/client/plugins';

const tessera = new URLSearchParams(location.search).get('tessera');
let lastJwtHeader = null;

const authClient = createAuthClient({
  baseURL: tessera,
  plugins: [jwtClient()],
  fetchOptions: {
    credentials: 'include',
    // readable cross-origin only if Tessera lists it in Access-Control-Expose-Headers
    onSuccess: (ctx) => {
      lastJwtHeader = ctx.response.headers.get('set-auth-jwt');
    },
  },
});

function log(step, outcome) {
  const li = document.createElement('li');
  li.textContent = `${step}: ${JSON.stringify(outcome)}`;
  document.getElementById('log').append(li);
  return outcome;
}

/** Runs a client call; a network/CORS failure becomes { thrown } instead of a rejection. */
async function step(name, fn) {
  try {
    const { data, error } = await fn();
    return log(name, { data, error });
  } catch (e) {
    return log(name, { thrown: `${e?.name}: ${e?.message}` });
  }
}

async function api(method, path, jwt, body) {
  try {
    const res = await fetch(`${tessera}${path}`, {
      method,
      headers: { authorization: `Bearer ${jwt}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return log(`${method} ${path}`, { status: res.status, body: text ? JSON.parse(text) : null });
  } catch (e) {
    return log(`${method} ${path}`, { thrown: `${e?.name}: ${e?.message}` });
  }
}

window.interop = {
  signUp: (email, password, name) => step('signUp', () => authClient.signUp.email({ email, password, name })),
  signIn: (email, password) => step('signIn', () => authClient.signIn.email({ email, password })),
  getSession: () => step('getSession', () => authClient.getSession()),
  token: () => step('token', () => authClient.token()),
  signOut: () => step('signOut', () => authClient.signOut()),
  lastJwtHeader: () => lastJwtHeader,
  listTasks: (userId, jwt) => api('GET', `/api/${userId}/tasks`, jwt),
  createTask: (userId, jwt, title) => api('POST', `/api/${userId}/tasks`, jwt, { title }),
};

document.getElementById('origin').textContent = location.origin;
document.getElementById('tessera').textContent = tessera;
window.interopReady = true;
