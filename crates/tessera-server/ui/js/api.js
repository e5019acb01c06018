// The server's API as functions: Better Auth's endpoints (cookie session) and the tasks
// API (Bearer access token, renewed and retried once on 401).

import { ApiError, send } from './http.js';
import * as token from './token.js';

export { ApiError };

/** The UI pages emailed links lead to (the server's defaults are the same pages). */
export const VERIFY_EMAIL_PAGE = '/verify-email';
export const RESET_PASSWORD_PAGE = '/reset-password';

/** True for the error thrown once the session is over (the app has already moved on). */
export function isSessionEnded(e) {
  return e instanceof ApiError && e.code === 'SESSION_ENDED';
}

/** Calls a cookie-authenticated endpoint; a 401 means the session is gone. */
async function withSession(method, path, body) {
  try {
    return (await send(method, path, { body })).data;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) throw token.sessionEnded();
    throw e;
  }
}

// --- Better Auth ---------------------------------------------------------------------

/** `{ session, user }` or null. Keeps the access token `get-session` hands out. */
export async function getSession() {
  const { data, headers } = await send('GET', '/api/auth/get-session');
  if (!data?.user) return null;
  const jwt = headers.get('set-auth-jwt');
  if (jwt) token.adopt(jwt);
  return data;
}

/**
 * Signs in; resolves to `{ user }`, or to `{ twoFactor: ['totp'] }` when the account asks
 * for a second factor (no session yet: the browser holds the challenge cookie).
 */
export async function signIn({ email, password }) {
  token.clear();
  const { data } = await send('POST', '/api/auth/sign-in/email', {
    body: { email, password, rememberMe: true },
  });
  if (data.twoFactorRedirect) return { twoFactor: data.twoFactorMethods ?? [] };
  return { user: data.user };
}

// --- Two-factor ---------------------------------------------------------------------------

/**
 * Finishes a sign-in (or steps the session up) with an authenticator code (`kind` 'totp')
 * or a backup code ('backup'); resolves to the user.
 */
export async function verifySecondFactor(kind, code, trustDevice) {
  const path = {
    backup: '/api/auth/two-factor/verify-backup-code',
    email: '/api/auth/two-factor/verify-otp',
  }[kind] ?? '/api/auth/two-factor/verify-totp';
  token.clear();
  const { data } = await send('POST', path, { body: { code, trustDevice } });
  return data.user;
}

/** Mails a second-factor code for the pending sign-in (`verifySecondFactor('email', …)`). */
export async function sendSecondFactorCode() {
  await send('POST', '/api/auth/two-factor/send-otp', { body: {} });
}

// --- Sign-in by email (magic links and codes) -------------------------------------------

/** Mails a sign-in link that lands on `callbackURL` once its button is pressed. */
export async function sendSignInLink({ email, name, callbackURL = '/tasks', newUserCallbackURL = '/account', errorCallbackURL = '/sign-in/email' }) {
  await send('POST', '/api/auth/sign-in/magic-link', {
    body: { email, name, callbackURL, newUserCallbackURL, errorCallbackURL },
  });
}

/** Mails a 6-digit sign-in code. */
export async function sendSignInCode({ email }) {
  await send('POST', '/api/auth/email-otp/send-verification-otp', { body: { email, type: 'sign-in' } });
}

/** Signs in with a mailed code; resolves like `signIn`. */
export async function signInWithCode({ email, otp, name }) {
  token.clear();
  const { data } = await send('POST', '/api/auth/sign-in/email-otp', { body: { email, otp, name, rememberMe: true } });
  if (data.twoFactorRedirect) return { twoFactor: data.twoFactorMethods ?? [] };
  return { user: data.user };
}

/** `{ enabled, pending, backupCodesLeft, amr }` of the signed-in user. */
export function twoFactorStatus() {
  return withSession('GET', '/api/auth/two-factor/status');
}

/** Starts an enrolment: `{ totpURI, totpQR, backupCodes }`. */
export async function enableTwoFactor(password) {
  return (await send('POST', '/api/auth/two-factor/enable', { body: { password } })).data;
}

/** Confirms an enrolment with a first code (the session is replaced); resolves to the user. */
export async function confirmTwoFactor(code) {
  token.clear();
  return (await send('POST', '/api/auth/two-factor/verify-totp', { body: { code } })).data.user;
}

/** A new set of backup codes (the old ones stop working). */
export async function newBackupCodes(password) {
  return (await send('POST', '/api/auth/two-factor/generate-backup-codes', { body: { password } })).data.backupCodes;
}

/** Turns two-factor off. */
export async function disableTwoFactor(password) {
  await send('POST', '/api/auth/two-factor/disable', { body: { password } });
}

/**
 * Creates an account; resolves to `{ user, signedIn }`. `signedIn` is false when the server
 * does not sign in at sign-up (`--require-email-verification`, or the `generic` sign-up
 * answer): it answers `token: null` and sets no cookie.
 */
export async function signUp({ name, email, password }) {
  token.clear();
  const { data } = await send('POST', '/api/auth/sign-up/email', {
    body: { name, email, password },
  });
  return { user: data.user, signedIn: typeof data.token === 'string' && data.token !== '' };
}

/** The configured identity providers: [{ id, name }]. */
export async function listProviders() {
  const { data } = await send('GET', '/api/auth/providers');
  return Array.isArray(data) ? data : [];
}

/**
 * Starts signing in with an identity provider; resolves to the provider's URL, where the
 * page goes next. The provider sends the browser back to /tasks, or to /sign-in?error=….
 */
export async function startSocialSignIn(provider) {
  token.clear();
  const { data } = await send('POST', '/api/auth/sign-in/social', {
    body: { provider, callbackURL: '/tasks', errorCallbackURL: '/sign-in', disableRedirect: true },
  });
  return data.url;
}

/** The user's ways to sign in: the password credential and every linked identity. */
export function listAccounts() {
  return withSession('GET', '/api/auth/list-accounts');
}

/**
 * Starts linking `provider` to the signed-in user; resolves to the provider's URL. The
 * provider sends the browser back to /account (with `?error=<code>` when it failed).
 */
export async function startLinkSocial(provider) {
  const data = await withSession('POST', '/api/auth/link-social', {
    provider,
    callbackURL: '/account',
    errorCallbackURL: '/account',
    disableRedirect: true,
  });
  return data.url;
}

/** Unlinks one account (its `id` from `listAccounts`); the last way in is refused. */
export async function unlinkAccount(accountId) {
  await withSession('POST', '/api/auth/unlink-account', { accountId });
}

/** Ends this session (the server also stops its access tokens). */
export async function signOut() {
  await send('POST', '/api/auth/sign-out', { body: {} });
  token.clear();
}

/** The user's active sessions; the caller's own has `current: true`. */
export function listSessions() {
  return withSession('GET', '/api/auth/list-sessions');
}

/** Ends one session by its handle (`token` in the list, which is the session id). */
export function revokeSession(handle) {
  return withSession('POST', '/api/auth/revoke-session', { token: handle });
}

/** Ends every session but this one. */
export function revokeOtherSessions() {
  return withSession('POST', '/api/auth/revoke-other-sessions', {});
}

// --- Account -------------------------------------------------------------------------

/** Changes the display name. */
export function updateUser({ name }) {
  return withSession('POST', '/api/auth/update-user', { name });
}

/**
 * Changes the password. With `revokeOtherSessions` every other session ends (and this one
 * gets a new session token, in a new cookie).
 */
export async function changePassword({ currentPassword, newPassword, revokeOtherSessions }) {
  const data = await withSession('POST', '/api/auth/change-password', {
    currentPassword,
    newPassword,
    revokeOtherSessions,
  });
  // The old session's access tokens may have stopped: take a fresh one on next use.
  if (revokeOtherSessions) token.clear();
  return data;
}

/**
 * Asks to move the account to `newEmail`. `password` re-checks who is asking (a Tessera
 * extension of Better Auth's body). The links in the mails lead to `callbackURL`.
 */
export function changeEmail({ newEmail, password, callbackURL }) {
  return withSession('POST', '/api/auth/change-email', { newEmail, password, callbackURL });
}

// --- Email links -----------------------------------------------------------------------

/** Sends (again) the link that verifies `email`; the link leads back to `callbackURL`. */
export async function sendVerificationEmail({ email, callbackURL = VERIFY_EMAIL_PAGE }) {
  await send('POST', '/api/auth/send-verification-email', { body: { email, callbackURL } });
}

/** Mails a reset link to `email` if it has an account (the answer is the same either way). */
export async function requestPasswordReset({ email }) {
  await send('POST', '/api/auth/request-password-reset', {
    body: { email, redirectTo: `${location.origin}${RESET_PASSWORD_PAGE}` },
  });
}

/** Sets a new password with the token of a reset link. Every session of the user ends. */
export async function resetPassword({ newPassword, token: resetToken }) {
  await send('POST', '/api/auth/reset-password', { body: { newPassword, token: resetToken } });
  token.clear();
}

// --- Tasks API -------------------------------------------------------------------------

async function authed(method, path, body) {
  const attempt = async (jwt) => (await send(method, path, { body, bearer: jwt })).data;
  try {
    return await attempt(await token.accessToken());
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401 || isSessionEnded(e)) throw e;
  }
  // The token was refused (expired while we slept, keys rotated…): renew once, retry once.
  const fresh = await token.renew();
  try {
    return await attempt(fresh);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) throw token.sessionEnded();
    throw e;
  }
}

const tasksPath = (userId, id, suffix = '') =>
  `/api/${encodeURIComponent(userId)}/tasks${id ? `/${encodeURIComponent(id)}` : ''}${suffix}`;

/** One page of the user's tasks, oldest first. */
export function listTasks(userId, { limit = 100, offset = 0 } = {}) {
  return authed('GET', `${tasksPath(userId)}?limit=${limit}&offset=${offset}`);
}

/** Creates a task; resolves to it. */
export function createTask(userId, { title, description }) {
  return authed('POST', tasksPath(userId), { title, description });
}

/** Changes any of `title`, `description`, `completed`; resolves to the task. */
export function updateTask(userId, id, change) {
  return authed('PUT', tasksPath(userId, id), change);
}

/** Flips `completed`; resolves to the task. */
export function toggleTask(userId, id) {
  return authed('PATCH', tasksPath(userId, id, '/complete'));
}

/** Deletes a task. */
export function deleteTask(userId, id) {
  return authed('DELETE', tasksPath(userId, id));
}
