// Passkeys (WebAuthn) in the browser: the server's options JSON (Better Auth's passkey
// plugin, base64url strings) turned into navigator.credentials calls and the credential
// back into JSON. The sign-in page uses `signInWithPasskey` (a button, and conditional UI:
// the browser offers passkeys in the email field's autofill); the Account page registers.

import { ApiError, send } from './http.js';
import * as token from './token.js';

const P = '/api/auth/passkey';

function fromB64url(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '==='.slice((b64.length + 3) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
}

function toB64url(buf) {
  let s = '';
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Whether this browser can use passkeys at all. */
export function supported() {
  return typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

/** Whether the browser offers passkeys in autofill (conditional mediation). */
export async function autofillSupported() {
  try {
    return supported() && (await PublicKeyCredential.isConditionalMediationAvailable?.()) === true;
  } catch {
    return false;
  }
}

function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return {
    ...json,
    challenge: fromB64url(json.challenge),
    user: { ...json.user, id: fromB64url(json.user.id) },
    excludeCredentials: (json.excludeCredentials ?? []).map((c) => ({ ...c, id: fromB64url(c.id) })),
  };
}

function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return {
    ...json,
    challenge: fromB64url(json.challenge),
    allowCredentials: (json.allowCredentials ?? []).map((c) => ({ ...c, id: fromB64url(c.id) })),
  };
}

function credentialJSON(cred) {
  if (typeof cred.toJSON === 'function') {
    const { clientExtensionResults, ...json } = cred.toJSON();
    return json;
  }
  const r = cred.response;
  const response = r.attestationObject
    ? {
        clientDataJSON: toB64url(r.clientDataJSON),
        attestationObject: toB64url(r.attestationObject),
        transports: r.getTransports?.() ?? [],
      }
    : {
        clientDataJSON: toB64url(r.clientDataJSON),
        authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : undefined,
      };
  return { id: cred.id, rawId: toB64url(cred.rawId), type: cred.type, authenticatorAttachment: cred.authenticatorAttachment ?? undefined, response };
}

/** The browser said no (cancelled, timed out, nothing matched): an ApiError the views explain. */
function cancelled(e) {
  if (e?.name === 'AbortError') return e;
  const code =
    e?.name === 'InvalidStateError'
      ? 'PREVIOUSLY_REGISTERED'
      : e?.name === 'SecurityError' || e?.name === 'NotSupportedError'
        ? 'PASSKEY_UNAVAILABLE'
        : 'PASSKEY_CANCELLED';
  return new ApiError({ status: 0, code, message: String(e?.message ?? e) });
}

/**
 * Signs in with a passkey; `signal` aborts it (conditional UI waits until the user picks
 * one). Resolves to `{ user }` or `{ twoFactor }` like api.signIn.
 */
export async function signInWithPasskey({ conditional = false, signal } = {}) {
  const { data: options } = await send('GET', `${P}/generate-authenticate-options`);
  let cred;
  try {
    cred = await navigator.credentials.get({
      publicKey: requestOptions(options),
      ...(conditional ? { mediation: 'conditional' } : {}),
      signal,
    });
  } catch (e) {
    throw cancelled(e);
  }
  token.clear();
  const { data } = await send('POST', `${P}/verify-authentication`, { body: { response: credentialJSON(cred) } });
  if (data.twoFactorRedirect) return { twoFactor: data.twoFactorMethods ?? [] };
  return { user: data.user };
}

/** Registers a passkey on this device for the signed-in user; resolves to the passkey. */
export async function addPasskey(name) {
  const { data: options } = await send('GET', `${P}/generate-register-options`);
  let cred;
  try {
    cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
  } catch (e) {
    throw cancelled(e);
  }
  const body = { response: credentialJSON(cred) };
  if (name) body.name = name;
  return (await send('POST', `${P}/verify-registration`, { body })).data;
}

/** The signed-in user's passkeys. */
export async function listPasskeys() {
  return (await send('GET', `${P}/list-user-passkeys`)).data;
}

export async function renamePasskey(id, name) {
  return (await send('POST', `${P}/update-passkey`, { body: { id, name } })).data.passkey;
}

export async function deletePasskey(id) {
  await send('POST', `${P}/delete-passkey`, { body: { id } });
}

/** Words for a passkey failure, or null to let errors.js explain it. */
export function passkeyProblem(e) {
  switch (e?.code) {
    case 'PASSKEY_CANCELLED':
      return 'No passkey was used. Try again when you’re ready.';
    case 'PASSKEY_UNAVAILABLE':
      return 'Passkeys can’t be used on this address or in this browser.';
    case 'PREVIOUSLY_REGISTERED':
      return 'This device already holds a passkey for your account.';
    case 'PASSKEY_NOT_FOUND':
    case 'AUTHENTICATION_FAILED':
      return 'That passkey isn’t recognised here. Sign in with your password, then add a passkey on your account page.';
    case 'CHALLENGE_NOT_FOUND':
      return 'That took too long. Please try again.';
    case 'FAILED_TO_VERIFY_REGISTRATION':
      return 'The passkey could not be added. Please try again.';
    case 'SESSION_NOT_FRESH':
      return 'For your security, sign in again before changing your passkeys.';
    default:
      return null;
  }
}
