// Sign-in by email (`/sign-in/email`): "Email me a link" (Better Auth's magicLink: the link
// opens a confirmation page served by the auth server, whose button signs in) and "Email me
// a code" (emailOTP: a 6-digit code typed here). The same page in 'sign-up' mode
// (`/sign-up/email`) asks for a name too: the link or code creates the account, with no
// password ever (an address that already has an account is simply signed in). Shown only when the server has them on
// (index.html's `tessera-email-sign-in` meta). Also `emailCodeOption`, which the two-step
// verification page uses to offer the code by email.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { explain, VALID_EMAIL } from '../errors.js';
import { busyButton, field, formAlert, notice } from '../form.js';
import { icon } from '../icons.js';

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The passwordless ways in this server offers: a subset of ['link', 'code']. */
export function emailSignInWays() {
  const content = document.querySelector('meta[name="tessera-email-sign-in"]')?.content ?? '';
  return content.split(' ').filter((w) => w === 'link' || w === 'code');
}

/** What a failed link (`/sign-in/email?error=…`) means. */
function linkError(code) {
  return code === 'TOKEN_EXPIRED'
    ? 'That sign-in link has expired. Send yourself a new one.'
    : 'That sign-in link has expired or was already used. Send yourself a new one.';
}

/** The sign-in-by-email page (`mode` 'sign-in'), or sign-up without a password ('sign-up'). */
export function emailSignInView(app, mode = 'sign-in') {
  const signingUp = mode === 'sign-up';
  const ways = emailSignInWays();
  const alert = formAlert();
  const name = signingUp
    ? field({ id: 'name', label: 'Name', autocomplete: 'name', required: true, maxlength: 200 })
    : null;
  const email = field({
    id: 'email',
    label: 'Email',
    type: 'email',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
    value: app.prefillEmail ?? '',
  });
  const linkButton = busyButton({ label: 'Email me a link', busyLabel: 'Sending…', type: 'button' });
  linkButton.el.classList.add('btn-block');
  linkButton.el.id = 'send-link';
  const codeButton = busyButton({
    label: 'Email me a code',
    busyLabel: 'Sending…',
    type: 'button',
    className: ways.includes('link') ? 'btn btn-secondary' : 'btn btn-primary',
  });
  codeButton.el.classList.add('btn-block');
  codeButton.el.id = 'send-code';

  function address() {
    alert.clear();
    email.clearError();
    name?.clearError();
    if (name && !name.value.trim()) {
      name.setError('Enter your name.');
      name.control.focus();
      return null;
    }
    const value = email.value.trim();
    if (!value) email.setError('Enter your email address.');
    else if (!EMAIL_SHAPE.test(value)) email.setError(VALID_EMAIL);
    else return value;
    email.control.focus();
    return null;
  }

  /** The name to create the account with (sign-up mode only). */
  const newName = () => (name ? name.value.trim() : undefined);

  function failed(e, button) {
    button.set(false);
    const why = explain(e);
    if (why.field === 'email') {
      email.setError(why.text);
      email.control.focus();
    } else if (why.field === 'name' && name) {
      name.setError(why.text);
      name.control.focus();
    } else if (why.retryAfter) {
      button.el.disabled = true;
      alert.countdown(why.retryAfter, () => {
        button.el.disabled = false;
      });
    } else {
      alert.show(why.text);
    }
  }

  linkButton.el.addEventListener('click', async () => {
    const to = address();
    if (!to || linkButton.busy) return;
    linkButton.set(true);
    try {
      await api.sendSignInLink({
        email: to,
        name: newName(),
        errorCallbackURL: signingUp ? '/sign-up/email' : '/sign-in/email',
      });
      linkButton.set(false);
      replace(
        card,
        head('Check your inbox'),
        h('div', { class: 'landing-icon landing-info', 'aria-hidden': 'true' }, icon('mail')),
        h(
          'div',
          { class: 'landing-body', role: 'status' },
          signingUp
            ? h('p', null, 'A link is on its way to ', h('strong', { class: 'user-text' }, to), '. Open it on this device and press “Create account”: no password needed.')
            : h('p', null, 'A sign-in link is on its way to ', h('strong', { class: 'user-text' }, to), '. Open it on this device and press the button on the page it opens.'),
          h('p', { class: 'muted' }, 'The link works once, for 10 minutes. Nothing arrived? Check your spam folder.'),
        ),
        h('a', { href: signingUp ? '/sign-up' : '/sign-in', class: 'btn btn-secondary btn-block', 'data-link': true }, signingUp ? 'Back to sign-up' : 'Back to sign-in'),
      );
      card.querySelector('h1').focus();
    } catch (e) {
      failed(e, linkButton);
    }
  });

  codeButton.el.addEventListener('click', async () => {
    const to = address();
    if (!to || codeButton.busy) return;
    codeButton.set(true);
    try {
      await api.sendSignInCode({ email: to });
      codeButton.set(false);
      enterCode(to);
    } catch (e) {
      failed(e, codeButton);
    }
  });

  /** The second step: the code from the message. */
  function enterCode(to) {
    const codeAlert = formAlert();
    const otp = field({
      id: 'otp',
      label: 'Code',
      autocomplete: 'one-time-code',
      inputmode: 'numeric',
      autocapitalize: 'none',
      spellcheck: 'false',
      maxlength: 64,
      required: true,
      hint: 'The 6-digit code in the email. It works once, for 10 minutes.',
    });
    const submit = busyButton(
      signingUp ? { label: 'Create account', busyLabel: 'Creating your account…' } : { label: 'Sign in', busyLabel: 'Signing in…' },
    );
    submit.el.classList.add('btn-block');
    const again = h('button', { type: 'button', class: 'btn btn-link', id: 'send-again' }, 'Send a new code');
    again.addEventListener('click', async () => {
      codeAlert.clear();
      otp.clearError();
      try {
        await api.sendSignInCode({ email: to });
        codeAlert.note('success', 'A new code is on its way. Only the newest one works.');
      } catch (e) {
        const why = explain(e);
        if (why.retryAfter) codeAlert.countdown(why.retryAfter, () => {});
        else codeAlert.show(why.text);
      }
    });
    const form = h(
      'form',
      { class: 'form', novalidate: true, 'aria-labelledby': 'email-sign-in-title' },
      codeAlert.el,
      otp.wrap,
      submit.el,
      again,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (submit.busy) return;
      codeAlert.clear();
      otp.clearError();
      const value = otp.value.replace(/\s+/g, '');
      if (!value) {
        otp.setError('Enter the code from the email.');
        otp.control.focus();
        return;
      }
      submit.set(true);
      try {
        const result = await api.signInWithCode({ email: to, otp: value, name: newName() });
        app.prefillEmail = null;
        if (result.twoFactor) {
          app.twoFactorMethods = result.twoFactor;
          app.navigate('/two-factor');
        } else {
          app.signedIn(result.user);
        }
      } catch (e) {
        submit.set(false);
        const why = explain(e);
        if (why.field === 'otp') {
          otp.setError(why.text);
          otp.control.select();
        } else if (why.retryAfter) {
          submit.el.disabled = true;
          codeAlert.countdown(why.retryAfter, () => {
            submit.el.disabled = false;
          });
        } else {
          codeAlert.show(why.text);
        }
      }
    });
    replace(
      card,
      head('Enter your code', ['We’ve emailed a 6-digit code to ', h('strong', { class: 'user-text' }, to), '.']),
      form,
    );
    otp.control.focus();
  }

  function head(title, text) {
    return h(
      'div',
      { class: 'auth-head' },
      h('h1', { id: 'email-sign-in-title', class: 'page-title', tabindex: '-1' }, title),
      text && h('p', { class: 'muted' }, text),
    );
  }

  // Back from a failed link with ?error=<code>
  const returned = new URLSearchParams(location.search).get('error');
  if (returned) {
    alert.show(linkError(returned));
    history.replaceState(null, '', location.pathname);
  }

  const form = h(
    'form',
    {
      class: 'form',
      novalidate: true,
      'aria-labelledby': 'email-sign-in-title',
      onsubmit: (event) => {
        event.preventDefault();
        (ways.includes('link') ? linkButton : codeButton).el.click();
      },
    },
    alert.el,
    name?.wrap,
    email.wrap,
    ways.includes('link') && linkButton.el,
    ways.includes('code') && codeButton.el,
  );
  const pending = app.takeNotice();
  const card = h(
    'div',
    { class: 'card auth-card' },
    signingUp
      ? head('Create your account', 'No password needed: we’ll email you a link or a code that creates it. Add a passkey afterwards to sign in with your fingerprint, face or screen lock.')
      : head('Sign in with your email', 'No password needed: we’ll email you a way in.'),
    pending && notice(pending),
    ways.length ? form : h('p', null, signingUp ? 'Signing up by email is not available on this server.' : 'Signing in by email is not available on this server.'),
  );
  const node = h(
    'section',
    { class: 'auth' },
    card,
    h(
      'p',
      { class: 'auth-switch' },
      signingUp
        ? ['Already have an account? ', h('a', { href: '/sign-in', 'data-link': true }, 'Sign in')]
        : h('a', { href: '/sign-in', 'data-link': true }, 'Sign in with your password'),
    ),
  );
  return { node, dispose: alert.dispose };
}

/**
 * For the two-step verification page: a button that emails a code and switches the page
 * to it (`onSent()`), when the pending sign-in offers it (`app.twoFactorMethods`).
 */
export function emailCodeOption(app, { onSent, onError }) {
  if (!app.twoFactorMethods?.includes('otp')) return null;
  const button = h('button', { type: 'button', class: 'btn btn-link', id: 'use-email-code' }, 'Email me a code instead');
  button.addEventListener('click', async () => {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await api.sendSecondFactorCode();
      onSent();
    } catch (e) {
      onError(e);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
