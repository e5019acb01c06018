// The passkey page of e2e/interop/test/passkey.test.mjs: the unmodified Better Auth client
// with `@better-auth/passkey`'s client plugin, on the same origin as the server it talks to
// (Tessera or Better Auth, behind lib/same-origin.mjs). The test drives it through
// window.interop.

import { passkeyClient } from '@better-auth/passkey/client';
import { createAuthClient } from 'better-auth/client';

const authClient = createAuthClient({ baseURL: location.origin, plugins: [passkeyClient()] });

async function step(fn) {
  try {
    const { data, error } = await fn();
    return { data: JSON.parse(JSON.stringify(data ?? null)), error };
  } catch (e) {
    return { thrown: `${e?.name}: ${e?.message}` };
  }
}

window.interop = {
  signUp: (email, password, name) => step(() => authClient.signUp.email({ email, password, name })),
  signIn: (email, password) => step(() => authClient.signIn.email({ email, password })),
  signOut: () => step(() => authClient.signOut()),
  getSession: () => step(() => authClient.getSession()),
  addPasskey: (name) => step(() => authClient.passkey.addPasskey({ name })),
  signInPasskey: () => step(() => authClient.signIn.passkey()),
  listPasskeys: () => step(() => authClient.passkey.listUserPasskeys()),
  updatePasskey: (id, name) => step(() => authClient.passkey.updatePasskey({ id, name })),
  deletePasskey: (id) => step(() => authClient.passkey.deletePasskey({ id })),
};
window.interopReady = true;
