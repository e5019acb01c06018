// Account → Email address: the current address and whether it is verified (with a button
// that sends the verification link again), and the change of address
// (POST /api/auth/change-email with the password). A verified address confirms the change
// first (a link to the old address, then one to the new); an unverified one gets the link
// at the new address straight away.

import { h, replace } from '../../dom.js';
import * as api from '../../api.js';
import { explain, tooManyAttempts, VALID_EMAIL } from '../../errors.js';
import { busyButton, field, formAlert } from '../../form.js';
import { accountSection } from './section.js';

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function emailSection(app) {
  let disposed = false;
  const user = app.user;

  // --- the current address ---------------------------------------------------------
  const resendStatus = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' });
  const resend = busyButton({ label: 'Send verification link', busyLabel: 'Sending…', type: 'button', className: 'btn btn-secondary btn-sm' });
  resend.el.addEventListener('click', async () => {
    resend.set(true);
    resendStatus.textContent = '';
    try {
      await api.sendVerificationEmail({ email: user.email });
      resendStatus.textContent = `Sent. Check your inbox at ${user.email}.`;
    } catch (e) {
      if (api.isSessionEnded(e) || disposed) return;
      if (e instanceof api.ApiError && e.code === 'EMAIL_ALREADY_VERIFIED') {
        await app.refreshUser().catch(() => null);
      }
      const why = explain(e);
      resendStatus.textContent = why.retryAfter ? tooManyAttempts(why.retryAfter) : why.text;
    } finally {
      resend.set(false);
    }
  });
  const verified = user.emailVerified === true;
  const current = h(
    'div',
    { class: 'current-email' },
    h(
      'p',
      { class: 'current-email-line' },
      h('span', { class: 'sr-only' }, 'Current address: '),
      h('strong', { class: 'user-text current-email-address' }, user.email),
      verified
        ? h('span', { class: 'badge badge-success' }, 'Verified')
        : h('span', { class: 'badge badge-warning' }, 'Not verified'),
    ),
    !verified && app.emailEnabled && h('div', { class: 'current-email-actions' }, resend.el, resendStatus),
  );

  // --- change of address -------------------------------------------------------------
  const alert = formAlert();
  const newEmail = field({
    id: 'new-email',
    label: 'New email address',
    type: 'email',
    autocomplete: 'email',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
  });
  const password = field({
    id: 'change-email-password',
    label: 'Current password',
    type: 'password',
    autocomplete: 'current-password',
    hint: 'To make sure it’s you.',
    maxlength: 128,
    required: true,
    reveal: true,
  });
  const submit = busyButton({ label: 'Change email', busyLabel: 'Sending link…' });
  const result = h('div', { class: 'change-result', role: 'status', 'aria-live': 'polite' });

  async function onSubmit(event) {
    event.preventDefault();
    if (submit.busy) return;
    alert.clear();
    newEmail.clearError();
    password.clearError();
    result.replaceChildren();
    const to = newEmail.value.trim().toLowerCase();
    const problems = [];
    if (!to) problems.push([newEmail, 'Enter the new address.']);
    else if (!EMAIL_SHAPE.test(to)) problems.push([newEmail, VALID_EMAIL]);
    else if (to === user.email.toLowerCase()) problems.push([newEmail, 'That is already your address.']);
    if (!password.value) problems.push([password, 'Enter your current password.']);
    if (problems.length) {
      for (const [f, text] of problems) f.setError(text);
      problems[0][0].control.focus();
      return;
    }
    submit.set(true);
    try {
      await api.changeEmail({
        newEmail: to,
        password: password.value,
        // The landing page says which step the link was (see views/verify.js).
        callbackURL: `${api.VERIFY_EMAIL_PAGE}?change=${encodeURIComponent(to)}`,
      });
    } catch (e) {
      if (api.isSessionEnded(e) || disposed) return;
      submit.set(false);
      const why = explain(e);
      const target =
        e instanceof api.ApiError && e.code === 'INVALID_PASSWORD'
          ? password
          : why.field === 'email' || why.field === 'newEmail'
            ? newEmail
            : why.field === 'password'
              ? password
              : null;
      if (target) {
        target.setError(why.text);
        target.control.focus();
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
    if (disposed) return;
    submit.set(false);
    password.control.value = '';
    newEmail.control.value = '';
    replace(
      result,
      h(
        'div',
        { class: 'notice notice-info' },
        verified
          ? [
              'Almost done. We’ve sent a link to your current address, ',
              h('strong', { class: 'user-text' }, user.email),
              '. Open it to approve the change; we’ll then send a last link to ',
              h('strong', { class: 'user-text' }, to),
              '.',
            ]
          : [
              'Almost done. We’ve sent a link to ',
              h('strong', { class: 'user-text' }, to),
              '. Open it to finish; until then you keep signing in with ',
              h('strong', { class: 'user-text' }, user.email),
              '.',
            ],
      ),
    );
    app.toast('Check your email to finish');
  }

  const form = app.emailEnabled
    ? h(
        'form',
        { class: 'form', novalidate: true, 'aria-label': 'Change email address', onsubmit: onSubmit },
        h('h3', { class: 'subsection-title' }, 'Change your address'),
        alert.el,
        newEmail.wrap,
        password.wrap,
        h('div', { class: 'form-actions' }, submit.el),
        result,
      )
    : h('p', { class: 'muted' }, 'This server doesn’t send email, so the address can’t be changed or verified here.');

  const node = accountSection(
    {
      id: 'email',
      title: 'Email address',
      description: 'You sign in with this address, and we send account emails to it.',
      iconName: 'mail',
    },
    current,
    form,
  );
  return {
    node,
    dispose() {
      disposed = true;
      alert.dispose();
    },
  };
}
