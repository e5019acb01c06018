// Account → Password: change it (POST /api/auth/change-password), optionally signing out
// every other session. An account made without a password (by an emailed link or code, or an
// identity provider: GET /api/auth/list-accounts has no `credential`) is told so instead, and
// offered the reset link to choose one.

import { h, replace } from '../../dom.js';
import * as api from '../../api.js';
import { explain } from '../../errors.js';
import { busyButton, checkbox, field, formAlert } from '../../form.js';
import { accountSection } from './section.js';

export function passwordSection(app) {
  const alert = formAlert();
  const current = field({
    id: 'current-password',
    label: 'Current password',
    type: 'password',
    autocomplete: 'current-password',
    maxlength: 128,
    required: true,
    reveal: true,
  });
  const next = field({
    id: 'new-password',
    label: 'New password',
    type: 'password',
    autocomplete: 'new-password',
    hint: 'At least 8 characters.',
    maxlength: 128,
    required: true,
    reveal: true,
  });
  const others = checkbox({
    id: 'revoke-other-sessions',
    label: 'Sign out of every other session',
    checked: true,
    hint: 'Anyone signed in with the old password elsewhere is signed out.',
  });
  const save = busyButton({ label: 'Change password', busyLabel: 'Changing…' });
  let disposed = false;

  async function onSubmit(event) {
    event.preventDefault();
    if (save.busy) return;
    alert.clear();
    current.clearError();
    next.clearError();
    const problems = [];
    if (!current.value) problems.push([current, 'Enter your current password.']);
    if (!next.value) problems.push([next, 'Enter a new password.']);
    else if (next.value.length < 8) problems.push([next, 'Use at least 8 characters.']);
    if (problems.length) {
      for (const [f, text] of problems) f.setError(text);
      problems[0][0].control.focus();
      return;
    }
    const revokeOtherSessions = others.control.checked;
    save.set(true);
    try {
      await api.changePassword({ currentPassword: current.value, newPassword: next.value, revokeOtherSessions });
      if (disposed) return;
      save.set(false);
      current.control.value = '';
      next.control.value = '';
      alert.note(
        'success',
        revokeOtherSessions ? 'Your password is changed, and every other session is signed out.' : 'Your password is changed.',
      );
      app.toast('Password changed');
    } catch (e) {
      if (api.isSessionEnded(e) || disposed) return;
      save.set(false);
      const why = explain(e);
      // INVALID_PASSWORD is about the current password; the policy codes about the new one.
      const target =
        e instanceof api.ApiError && e.code === 'INVALID_PASSWORD'
          ? current
          : why.field === 'password' || why.field === 'newPassword'
            ? next
            : why.field === 'currentPassword'
              ? current
              : null;
      if (target) {
        target.setError(why.text);
        target.control.focus();
        target.control.select();
      } else if (why.retryAfter) {
        save.el.disabled = true;
        alert.countdown(why.retryAfter, () => {
          save.el.disabled = false;
        });
      } else {
        alert.show(why.text);
      }
    }
  }

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'aria-label': 'Change password', onsubmit: onSubmit },
    alert.el,
    current.wrap,
    next.wrap,
    others.wrap,
    h('div', { class: 'form-actions' }, save.el),
  );
  const node = accountSection(
    { id: 'password', title: 'Password', description: 'Change the password you sign in with.', iconName: 'key' },
    form,
  );

  /** Instead of the form, for an account without a password. */
  function noPassword() {
    const send = busyButton({ label: 'Email me a link to choose one', busyLabel: 'Sending…', className: 'btn btn-secondary', type: 'button' });
    send.el.id = 'set-password';
    send.el.addEventListener('click', async () => {
      if (send.busy) return;
      alert.clear();
      send.set(true);
      try {
        await api.requestPasswordReset({ email: app.user.email });
        if (disposed) return;
        send.set(false);
        alert.note('success', `A link to choose a password is on its way to ${app.user.email}. Choosing it signs you out everywhere.`);
      } catch (e) {
        if (api.isSessionEnded(e) || disposed) return;
        send.set(false);
        alert.show(explain(e).text);
      }
    });
    replace(
      form.parentNode,
      alert.el,
      h('p', { class: 'muted', id: 'no-password' }, 'You sign in without a password: with a link or code sent to your email, a passkey, or a linked provider.'),
      app.emailEnabled && h('div', { class: 'form-actions' }, send.el),
    );
  }

  api
    .listAccounts()
    .then((accounts) => {
      if (!disposed && !accounts.some((a) => a.providerId === 'credential')) noPassword();
    })
    .catch(() => {});
  return {
    node,
    dispose() {
      disposed = true;
      alert.dispose();
    },
  };
}
