// Password reset: "forgot password?" (ask for a link by email) and "choose a new password"
// (the page the link lands on, with `?token=…` or `?error=…`; main.js has already taken
// the query out of the address bar).

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { explain, VALID_EMAIL } from '../errors.js';
import { busyButton, field, formAlert } from '../form.js';
import { icon } from '../icons.js';

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A centred card like sign-in's, with a heading and a short line under it. */
function card(titleText, lead, ...content) {
  return h(
    'section',
    { class: 'auth' },
    h(
      'div',
      { class: 'card auth-card' },
      h(
        'div',
        { class: 'auth-head' },
        h('h1', { class: 'page-title', tabindex: '-1' }, titleText),
        lead && h('p', { class: 'muted' }, lead),
      ),
      content,
    ),
    h('p', { class: 'auth-switch' }, 'Remembered it? ', h('a', { href: '/sign-in', 'data-link': true }, 'Back to sign in')),
  );
}

/** Shows a result in place of a form: an icon, a heading, text, and what to do next. */
function outcome(container, { kind, heading, text, action }) {
  const head = container.querySelector('h1');
  head.textContent = heading;
  const lead = container.querySelector('.auth-head .muted');
  lead?.remove();
  const cardEl = container.querySelector('.auth-card');
  replace(
    cardEl,
    h('div', { class: 'auth-head' }, head),
    h('div', { class: `landing-icon landing-${kind}`, 'aria-hidden': 'true' }, icon(kind === 'success' ? 'check' : kind === 'info' ? 'mail' : 'alert')),
    h('div', { class: 'landing-body', role: 'status' }, text),
    action,
  );
  head.focus();
}

/** `/forgot-password`: asks for the address, mails a link (if the address has an account). */
export function forgotPasswordView(app) {
  const alert = formAlert();
  const email = field({
    id: 'email',
    label: 'Email',
    type: 'email',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
    value: app.prefillEmail ?? app.user?.email ?? '',
  });
  const submit = busyButton({ label: 'Send reset link', busyLabel: 'Sending…' });
  submit.el.classList.add('btn-block');

  async function onSubmit(event) {
    event.preventDefault();
    if (submit.busy) return;
    alert.clear();
    email.clearError();
    const value = email.value.trim();
    if (!value) {
      email.setError('Enter your email address.');
      email.control.focus();
      return;
    }
    if (!EMAIL_SHAPE.test(value)) {
      email.setError(VALID_EMAIL);
      email.control.focus();
      return;
    }
    submit.set(true);
    try {
      await api.requestPasswordReset({ email: value });
    } catch (e) {
      submit.set(false);
      const why = explain(e);
      if (why.field === 'email') {
        email.setError(why.text);
        email.control.focus();
      } else if (why.retryAfter) {
        submit.el.disabled = true;
        alert.countdown(why.retryAfter, () => {
          submit.el.disabled = false;
        });
      } else {
        alert.show(why.text);
      }
      return;
    }
    app.prefillEmail = value;
    outcome(node, {
      kind: 'info',
      heading: 'Check your inbox',
      text: [
        h('p', null, 'If an account uses ', h('strong', { class: 'user-text' }, value), ', we’ve sent it a link to choose a new password.'),
        h('p', { class: 'muted' }, 'The link works for 30 minutes. Nothing arrived? Check your spam folder, or try again in a minute.'),
      ],
      action: h('a', { href: '/sign-in', class: 'btn btn-secondary btn-block', 'data-link': true }, 'Back to sign in'),
    });
  }

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'aria-label': 'Reset your password', onsubmit: onSubmit },
    alert.el,
    email.wrap,
    submit.el,
  );
  const node = card('Reset your password', 'Enter the email address of your account and we’ll send you a link to choose a new password.', form);
  return { node, dispose: alert.dispose };
}

/** `/reset-password`: the landing of the emailed link; sets the new password. */
export function resetPasswordView(app) {
  const params = app.takeLanding();
  const token = params.get('token');
  const error = params.get('error');
  const alert = formAlert();

  const unusable = (code) => ({
    kind: 'error',
    heading: code === 'TOKEN_EXPIRED' ? 'This link has expired' : 'This link can’t be used',
    text: [
      h(
        'p',
        null,
        code === 'TOKEN_EXPIRED'
          ? 'Reset links work for 30 minutes.'
          : token || error
            ? 'Reset links work once and for 30 minutes, and a newer link replaces an older one.'
            : 'Open the link from the email we sent you. To get a new one, ask again.',
      ),
    ],
    action: h('a', { href: '/forgot-password', class: 'btn btn-primary btn-block', 'data-link': true }, 'Ask for a new link'),
  });

  const password = field({
    id: 'new-password',
    label: 'New password',
    type: 'password',
    autocomplete: 'new-password',
    hint: 'At least 8 characters.',
    maxlength: 128,
    required: true,
    reveal: true,
  });
  const confirm = field({
    id: 'confirm-password',
    label: 'Confirm new password',
    type: 'password',
    autocomplete: 'new-password',
    maxlength: 128,
    required: true,
  });
  const submit = busyButton({ label: 'Set new password', busyLabel: 'Saving…' });
  submit.el.classList.add('btn-block');

  async function onSubmit(event) {
    event.preventDefault();
    if (submit.busy) return;
    alert.clear();
    password.clearError();
    confirm.clearError();
    const value = password.value;
    if (value.length < 8) {
      password.setError(value ? 'Use at least 8 characters.' : 'Enter a new password.');
      password.control.focus();
      return;
    }
    if (confirm.value !== value) {
      confirm.setError('The two passwords don’t match.');
      confirm.control.focus();
      return;
    }
    submit.set(true);
    try {
      await api.resetPassword({ newPassword: value, token });
    } catch (e) {
      submit.set(false);
      if (e instanceof api.ApiError && ['INVALID_TOKEN', 'TOKEN_EXPIRED', 'USER_NOT_FOUND'].includes(e.code)) {
        outcome(node, unusable(e.code));
        return;
      }
      const why = explain(e);
      if (why.field === 'password' || why.field === 'newPassword') {
        password.setError(why.text);
        password.control.focus();
      } else if (why.retryAfter) {
        submit.el.disabled = true;
        alert.countdown(why.retryAfter, () => {
          submit.el.disabled = false;
        });
      } else {
        alert.show(why.text);
      }
      return;
    }
    // A reset ends every session of the account, this browser's too.
    app.signedOut({ kind: 'success', text: 'Your password has been changed, and every session was signed out. Sign in with your new password.' });
  }

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'aria-label': 'Choose a new password', onsubmit: onSubmit },
    alert.el,
    password.wrap,
    confirm.wrap,
    submit.el,
  );
  const node = card('Choose a new password', 'You’ll be signed out everywhere, then sign in with the new password.', form);
  if (!token || error) queueMicrotask(() => outcome(node, unusable(error)));
  return { node, dispose: alert.dispose };
}
