// Two-step verification: the challenge page after a password sign-in (`/two-factor`), and
// the Account page's section that turns it on and off, shows backup codes and replaces them
// (`twoFactorSection`, listed in views/account.js; the old `/security` address leads there).

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { explain } from '../errors.js';
import { busyButton, field, formAlert, notice } from '../form.js';
import { accountSection } from './account/section.js';
import { emailCodeOption } from './email_sign_in.js';

/** The page that asks for the second factor after the password. */
export function challengeView(app) {
  let backup = false;
  let byEmail = false;
  const alert = formAlert();
  const code = field({
    id: 'code',
    label: 'Authentication code',
    autocomplete: 'one-time-code',
    inputmode: 'numeric',
    autocapitalize: 'none',
    spellcheck: 'false',
    maxlength: 64,
    required: true,
    hint: 'The 6-digit code your authenticator app shows for this account.',
  });
  const trust = h('input', { id: 'trust-device', type: 'checkbox', class: 'checkbox' });
  const submit = busyButton({ label: 'Verify', busyLabel: 'Verifying…' });
  submit.el.classList.add('btn-block');
  const toggle = h('button', { type: 'button', class: 'btn btn-link', id: 'use-backup' }, 'Use a backup code instead');
  toggle.addEventListener('click', () => {
    if (byEmail) {
      byEmail = false;
      backup = true;
    }
    backup = !backup;
    code.clearError();
    code.control.value = '';
    code.control.setAttribute('inputmode', backup ? 'text' : 'numeric');
    code.wrap.querySelector('label').textContent = backup ? 'Backup code' : 'Authentication code';
    code.wrap.querySelector('.hint').textContent = backup
      ? 'One of the codes you saved when you turned on two-step verification. Each works once.'
      : 'The 6-digit code your authenticator app shows for this account.';
    toggle.textContent = backup ? 'Use your authenticator app instead' : 'Use a backup code instead';
    code.control.focus();
  });

  async function onSubmit(event) {
    event.preventDefault();
    if (submit.busy) return;
    alert.clear();
    code.clearError();
    const value = code.value.trim();
    if (!value) {
      code.setError(backup ? 'Enter a backup code.' : 'Enter the code from your app.');
      code.control.focus();
      return;
    }
    submit.set(true);
    try {
      const kind = byEmail ? 'email' : backup ? 'backup' : 'totp';
      const user = await api.verifySecondFactor(kind, value, trust.checked);
      app.signedIn(user);
    } catch (e) {
      submit.set(false);
      const why = explain(e);
      if (why.field === 'code') {
        code.setError(why.text);
        code.control.select();
      } else if (why.restart) {
        app.navigate('/sign-in', { notice: { kind: 'warning', text: why.text } });
      } else if (why.retryAfter) {
        submit.el.disabled = true;
        alert.countdown(why.retryAfter, () => {
          submit.el.disabled = false;
        });
      } else {
        alert.show(why.text);
      }
    }
  }

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'aria-labelledby': 'tf-title', onsubmit: onSubmit },
    alert.el,
    code.wrap,
    h('div', { class: 'field field-check' }, trust, h('label', { for: 'trust-device' }, 'Trust this device for 30 days')),
    submit.el,
    toggle,
    emailCodeOption(app, {
      onSent() {
        byEmail = true;
        backup = false;
        alert.clear();
        code.clearError();
        code.control.value = '';
        code.control.setAttribute('inputmode', 'numeric');
        code.wrap.querySelector('label').textContent = 'Code from your email';
        code.wrap.querySelector('.hint').textContent =
          'We’ve emailed you a 6-digit code. It works once, for 10 minutes (a new one replaces it).';
        toggle.textContent = 'Use your authenticator app instead';
        code.control.focus();
      },
      onError(e) {
        alert.show(explain(e).text);
      },
    }),
  );
  const node = h(
    'section',
    { class: 'auth' },
    h(
      'div',
      { class: 'card auth-card' },
      h(
        'div',
        { class: 'auth-head' },
        h('h1', { id: 'tf-title', class: 'page-title', tabindex: '-1' }, 'Two-step verification'),
        h('p', { class: 'muted' }, 'Your password was right. Now confirm it’s you with your second factor.'),
      ),
      form,
    ),
    h('p', { class: 'auth-switch' }, h('a', { href: '/sign-in', 'data-link': true }, 'Back to sign-in')),
  );
  return { node, dispose: alert.dispose };
}

/** Backup codes as a list the user can copy. */
function codeList(codes) {
  return h(
    'div',
    { class: 'backup-codes' },
    h('p', null, 'Save these backup codes somewhere safe. Each works once, and they are shown only now.'),
    h('ol', { class: 'code-list', 'aria-label': 'Backup codes' }, codes.map((c) => h('li', null, h('code', null, c)))),
  );
}

/**
 * A password prompt with one button; `action(password)` runs on submit. Without
 * `needsPassword` (an account with no password: the server asks for a recent sign-in
 * instead) only the button, and `action(undefined)`.
 */
function passwordForm({ id, label, busyLabel, className, action, onError, needsPassword = true }) {
  const pw = needsPassword
    ? field({ id, label: 'Your password', type: 'password', autocomplete: 'current-password', maxlength: 128, required: true })
    : null;
  const button = busyButton({ label, busyLabel, className });
  button.el.id = `${id}-button`;
  const form = h('form', { class: 'form form-inline', novalidate: true }, pw?.wrap, button.el);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (button.busy) return;
    if (pw) {
      pw.clearError();
      if (!pw.value) {
        pw.setError('Enter your password.');
        pw.control.focus();
        return;
      }
    }
    button.set(true);
    try {
      await action(pw?.value);
    } catch (e) {
      const why = explain(e);
      if (why.field === 'password' && pw) {
        pw.setError(why.text);
        pw.control.select();
      } else onError(why.text);
    } finally {
      button.set(false);
    }
  });
  return form;
}

/** The two-step verification section: status, enrolment, backup codes, turning it off. */
export function twoFactorSection(app) {
  const body = h('div', { class: 'tf-body', 'aria-busy': 'true' });
  const alert = formAlert();
  let disposed = false;

  const fail = (text) => alert.show(text);
  // An account without a password (signed up by email or a provider) confirms with a recent
  // sign-in instead; until the list of sign-in methods says otherwise, a password is asked.
  let hasPassword = true;

  async function load() {
    alert.clear();
    try {
      const [status, accounts] = await Promise.all([api.twoFactorStatus(), api.listAccounts().catch(() => null)]);
      if (disposed) return;
      hasPassword = !accounts || accounts.some((a) => a.providerId === 'credential');
      body.removeAttribute('aria-busy');
      if (status.enabled) showEnabled(status);
      else showDisabled();
    } catch (e) {
      if (!api.isSessionEnded(e)) fail(explain(e).text);
    }
  }

  function showDisabled() {
    replace(
      body,
      h(
        'p',
        { class: 'tf-status' },
        h('span', { class: 'badge' }, 'Off'),
        hasPassword ? ' Sign-in asks only for your password.' : ' Sign-in asks only for your email link, code or passkey.',
      ),
      passwordForm({
        needsPassword: hasPassword,
        id: 'tf-enable-password',
        label: 'Turn on two-step verification',
        busyLabel: 'Starting…',
        action: async (password) => showEnrolment(await api.enableTwoFactor(password)),
        onError: fail,
      }),
    );
  }

  function showEnrolment({ totpURI, totpQR, backupCodes }) {
    const secret = new URL(totpURI).searchParams.get('secret') ?? '';
    const code = field({
      id: 'tf-confirm-code',
      label: 'Code from the app',
      autocomplete: 'one-time-code',
      inputmode: 'numeric',
      maxlength: 6,
      required: true,
    });
    const confirm = busyButton({ label: 'Confirm and turn on', busyLabel: 'Confirming…' });
    const form = h('form', { class: 'form form-inline', novalidate: true }, code.wrap, confirm.el);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (confirm.busy) return;
      code.clearError();
      confirm.set(true);
      try {
        app.user = await api.confirmTwoFactor(code.value.trim());
        app.toast('Two-step verification is on', 'success');
        replace(body, notice({ kind: 'success', text: 'Two-step verification is on.' }), codeList(backupCodes));
        body.append(h('button', { type: 'button', class: 'btn btn-secondary', onclick: load }, 'Done'));
      } catch (e) {
        confirm.set(false);
        const why = explain(e);
        if (why.field === 'code') code.setError(why.text);
        else fail(why.text);
      }
    });
    replace(
      body,
      h('ol', { class: 'steps' },
        h('li', null, 'Scan this QR code with an authenticator app (or enter the key by hand).'),
        h('li', null, 'Enter the 6-digit code it shows to confirm.'),
      ),
      h('img', {
        class: 'qr',
        alt: 'QR code of your authenticator key',
        width: 200,
        height: 200,
        src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(totpQR)}`,
      }),
      h('p', null, 'Key: ', h('code', { class: 'tf-secret' }, secret)),
      form,
      codeList(backupCodes),
    );
    code.control.focus();
  }

  function showEnabled(status) {
    const codesOut = h('div');
    replace(
      body,
      h(
        'p',
        { class: 'tf-status' },
        h('span', { class: 'badge badge-accent' }, 'On'),
        ' Sign-in asks for a code from your authenticator app. ',
        h('span', { class: 'tf-left' }, `${status.backupCodesLeft} backup code${status.backupCodesLeft === 1 ? '' : 's'} left.`),
      ),
      passwordForm({
        needsPassword: hasPassword,
        id: 'tf-codes-password',
        label: 'New backup codes',
        busyLabel: 'Creating…',
        className: 'btn btn-secondary',
        action: async (password) => {
          const codes = await api.newBackupCodes(password);
          replace(codesOut, codeList(codes));
          body.querySelector('.tf-left').textContent = `${codes.length} backup codes left.`;
        },
        onError: fail,
      }),
      codesOut,
      passwordForm({
        needsPassword: hasPassword,
        id: 'tf-disable-password',
        label: 'Turn off',
        busyLabel: 'Turning off…',
        className: 'btn btn-danger-outline',
        action: async (password) => {
          await api.disableTwoFactor(password);
          app.toast('Two-step verification is off');
          load();
        },
        onError: fail,
      }),
    );
  }

  load();
  const node = accountSection(
    {
      id: 'two-factor',
      title: 'Two-step verification',
      description: 'A code from an authenticator app at sign-in, after your password.',
      iconName: 'phone',
    },
    alert.el,
    body,
  );
  return {
    node,
    dispose() {
      disposed = true;
      alert.dispose();
    },
  };
}
