// Turns API errors into plain language, and says which field each one belongs to.
//
// explain(error) → { field, text, link?, retryAfter?, kind? }: `field` names the form field the
// message goes under (null: the whole form), `link` an optional { href, label } to offer,
// `kind` 'warning' or 'success' when the answer is not really a failure (an unverified
// address, an address already verified).

import { ApiError } from './http.js';

const GENERIC = 'Something went wrong. Please try again.';
export const VALID_EMAIL = 'Enter a valid email address, like name@example.com.';

/** Better Auth's validation messages look like "[body.email] Invalid email address". */
function validation(message) {
  const m = /^\[(?:body|query)\.(\w+)\]\s*(.*)$/.exec(message ?? '');
  const field = m?.[1] ?? null;
  const detail = (m?.[2] ?? '').toLowerCase();
  const tooLong = /too big|at most|too long/.test(detail);
  const control = /control character/.test(detail);
  switch (field) {
    case 'email':
      return { field, text: VALID_EMAIL };
    case 'name':
      if (tooLong) return { field, text: 'Use at most 200 characters for your name.' };
      if (control) return { field, text: 'Your name has characters that are not allowed.' };
      return { field, text: 'Enter your name.' };
    case 'password':
    case 'currentPassword':
      return { field, text: 'Enter your password.' };
    case 'newPassword':
      if (tooLong) return { field, text: 'Use at most 128 characters.' };
      return { field, text: 'Enter a new password of at least 8 characters.' };
    case 'newEmail':
      return { field, text: VALID_EMAIL };
    case 'title':
      if (tooLong) return { field, text: 'Keep the title to 200 characters or fewer.' };
      if (control) return { field, text: 'The title has characters that are not allowed.' };
      return { field, text: 'Give the task a title.' };
    case 'description':
      if (tooLong) return { field, text: 'Keep the description to 2,000 characters or fewer.' };
      if (control) return { field, text: 'The description has characters that are not allowed.' };
      return { field, text: 'Check the description and try again.' };
    default:
      return { field: null, text: 'Some of what you entered was not accepted. Check it and try again.' };
  }
}

/** Plain-language explanation of a failed call. */
export function explain(error) {
  if (!(error instanceof ApiError)) return { field: null, text: GENERIC };
  const { status, code } = error;
  switch (code) {
    case 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL':
    case 'USER_ALREADY_EXISTS':
      return {
        field: 'email',
        text: 'An account with this email already exists.',
        link: { href: '/sign-in', label: 'Sign in instead?' },
      };
    case 'INVALID_EMAIL_OR_PASSWORD':
      return { field: 'password', text: 'That email and password don’t match. Check them and try again.' };
    case 'INVALID_EMAIL':
      return { field: 'email', text: VALID_EMAIL };
    case 'PASSWORD_TOO_SHORT':
      return { field: 'password', text: 'Use at least 8 characters.' };
    case 'PASSWORD_TOO_LONG':
      return { field: 'password', text: 'Use at most 128 characters.' };
    case 'INVALID_PASSWORD':
      return { field: 'password', text: 'That password isn’t right.' };
    case 'PASSWORD_COMPROMISED':
      return {
        field: 'password',
        text: 'This password has appeared in a known data breach. Choose a different one.',
      };
    case 'CREDENTIAL_ACCOUNT_NOT_FOUND':
      return { field: null, text: 'Your account has no password to change.' };
    // --- email: verification, password reset, change of address ------------------------
    case 'EMAIL_NOT_VERIFIED':
      return {
        field: null,
        kind: 'warning',
        text: 'Verify your email address before you sign in. We’ve sent you a new link: open it, then sign in here.',
      };
    case 'EMAIL_ALREADY_VERIFIED':
      return { field: null, kind: 'success', text: 'Your email address is already verified.' };
    case 'EMAIL_MISMATCH':
      return { field: null, text: 'That isn’t the address of the account you’re signed in to.' };
    case 'VERIFICATION_EMAIL_NOT_ENABLED':
      return { field: null, text: 'This server doesn’t send email, so addresses can’t be verified. Ask its administrator.' };
    case 'RESET_PASSWORD_DISABLED':
      return {
        field: null,
        text: 'This server doesn’t send email, so passwords can’t be reset by email. Ask its administrator.',
      };
    case 'CHANGE_EMAIL_DISABLED':
      return { field: null, text: 'Changing your email address isn’t available on this server.' };
    case 'EMAIL_CAN_NOT_BE_UPDATED':
    case 'EMAIL_IS_THE_SAME':
      return { field: 'email', text: 'Enter an address other than your current one.' };
    case 'TOKEN_EXPIRED':
      return { field: null, text: 'This link has expired. Ask for a new one.' };
    case 'INVALID_TOKEN':
      return { field: null, text: 'This link is not valid: it may have been used already, or replaced by a newer one.' };
    case 'USER_NOT_FOUND':
    case 'INVALID_USER':
      return { field: null, text: 'The account this link was for no longer exists.' };
    case 'FAILED_TO_UNLINK_LAST_ACCOUNT':
      return {
        field: null,
        text: 'This is your only way to sign in, so it can’t be removed. Link another provider first.',
      };
    case 'ACCOUNT_NOT_FOUND':
      return { field: null, text: 'That sign-in method is no longer linked. The list has been refreshed.' };
    case 'PROVIDER_NOT_FOUND':
      return { field: null, text: 'This provider is no longer available on this server.' };
    case 'SESSION_NOT_FRESH':
    case 'SESSION_EXPIRED':
      return { field: null, text: 'For your security, enter your password (or sign in again) to make this change.' };
    case 'INVALID_CALLBACK_URL':
    case 'INVALID_REDIRECT_URL':
      return { field: null, text: 'The server refused the address of this page. Open Tessera from its usual address and try again.' };
    case 'VALIDATION_ERROR':
      return validation(error.message);
    case 'INVALID_CODE':
      return { field: 'code', text: 'That code isn’t right, or was already used. Enter the current code from your app.' };
    case 'INVALID_OTP':
      return { field: 'otp', text: 'That code isn’t right, or was already used. Check the latest email and try again.' };
    case 'OTP_EXPIRED':
      return { field: 'otp', text: 'That code has expired. Send yourself a new one.' };
    case 'TOO_MANY_ATTEMPTS':
      return { field: 'otp', text: 'Too many wrong tries for this code. Send yourself a new one.' };
    case 'OTP_HAS_EXPIRED':
      return { field: 'code', text: 'That code has expired or was already used. Email yourself a new one.' };
    case 'OTP_NOT_ALLOWED':
      return { field: null, text: 'You signed in with your email, so a code by email can’t be your second step. Use your authenticator app or a backup code.' };
    case 'OTP_NOT_CONFIGURED':
      return { field: null, text: 'Codes by email aren’t available on this server. Use your authenticator app or a backup code.' };
    case 'INVALID_BACKUP_CODE':
      return { field: 'code', text: 'That backup code isn’t right, or was already used.' };
    case 'INVALID_TWO_FACTOR_COOKIE':
      return { field: null, text: 'This sign-in has expired. Sign in again.', restart: true };
    case 'TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE':
      return { field: null, text: 'Too many wrong codes for this sign-in. Sign in again.', restart: true };
    case 'ACCOUNT_TEMPORARILY_LOCKED':
      return {
        field: null,
        text: 'Too many wrong codes. Two-step verification is locked for a while; try again later.',
        retryAfter: error.retryAfter,
      };
    case 'INVALID_ORIGIN':
    case 'MISSING_OR_NULL_ORIGIN':
    case 'CROSS_SITE_NAVIGATION_LOGIN_BLOCKED':
      return {
        field: null,
        text: 'The server did not accept a request from this address. Open Tessera from its usual address and try again.',
      };
    case 'NETWORK_ERROR':
      return { field: null, text: 'Can’t reach Tessera. Check your connection and try again.' };
    case 'TIMEOUT':
      return { field: null, text: 'Tessera is taking too long to answer. Please try again.' };
    case 'SESSION_ENDED':
      return { field: null, text: 'Your session has ended. Sign in again to continue.' };
    default:
      break;
  }
  if (status === 429) {
    const n = error.retryAfter;
    return n
      ? { field: null, text: tooManyAttempts(n), retryAfter: n }
      : { field: null, text: 'Too many attempts. Wait a moment and try again.' };
  }
  if (status === 503) {
    return { field: null, text: 'Tessera is temporarily unavailable. Please try again in a moment.' };
  }
  if (status === 413) return { field: null, text: 'That is more text than Tessera accepts.' };
  if (status === 404) return { field: null, text: 'That item no longer exists. It may have been deleted elsewhere.' };
  if (status === 403) return { field: null, text: 'You don’t have access to that.' };
  if (status >= 500) return { field: null, text: 'Something went wrong on our side. Please try again.' };
  return { field: null, text: GENERIC };
}

/** "Too many attempts, try again in N seconds." */
export function tooManyAttempts(seconds) {
  return `Too many attempts, try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
}
