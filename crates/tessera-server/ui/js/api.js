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

/** Signs in; resolves to the user. */
export async function signIn({ email, password }) {
  token.clear();
  const { data } = await send('POST', '/api/auth/sign-in/email', {
    body: { email, password, rememberMe: true },
  });
  return data.user;
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
