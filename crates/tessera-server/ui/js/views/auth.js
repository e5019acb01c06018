// Sign-in and sign-up pages.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { explain, VALID_EMAIL } from '../errors.js';
import { busyButton, field, formAlert, notice } from '../form.js';
import { icon } from '../icons.js';
import { emailSignInWays } from './email_sign_in.js';
import { passkeySignIn } from './passkeys.js';

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The sign-in (`mode` 'sign-in') or sign-up ('sign-up') page. */
export function authView(app, mode) {
  const signingUp = mode === 'sign-up';
  const alert = formAlert();
  const fields = {};
  if (signingUp) {
    fields.name = field({ id: 'name', label: 'Name', autocomplete: 'name', maxlength: 200, required: true });
  }
  fields.email = field({
    id: 'email',
    label: 'Email',
    type: 'email',
    // `webauthn`: the browser may offer passkeys here (conditional UI, views/passkeys.js)
    autocomplete: signingUp ? 'email' : 'username webauthn',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
    value: app.prefillEmail ?? '',
  });
  fields.password = field({
    id: 'password',
    label: 'Password',
    type: 'password',
    autocomplete: signingUp ? 'new-password' : 'current-password',
    hint: signingUp ? 'At least 8 characters.' : null,
    maxlength: 128,
    required: true,
    reveal: true,
  });
  const submit = busyButton(
    signingUp
      ? { label: 'Create account', busyLabel: 'Creating account…' }
      : { label: 'Sign in', busyLabel: 'Signing in…' },
  );
  submit.el.classList.add('btn-block');

  /** Client-side checks with the same wording as the server's errors. */
  function check(values) {
    const problems = [];
    if (signingUp && !values.name.trim()) problems.push(['name', 'Enter your name.']);
    if (!values.email.trim()) problems.push(['email', 'Enter your email address.']);
    else if (!EMAIL_SHAPE.test(values.email.trim())) problems.push(['email', VALID_EMAIL]);
    if (!values.password) problems.push(['password', 'Enter your password.']);
    else if (signingUp && values.password.length < 8) problems.push(['password', 'Use at least 8 characters.']);
    return problems;
  }

  function clearErrors() {
    alert.clear();
    for (const f of Object.values(fields)) f.clearError();
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (submit.busy) return;
    clearErrors();
    const values = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.value]));
    const problems = check(values);
    if (problems.length) {
      for (const [name, text] of problems) fields[name].setError(text);
      fields[problems[0][0]].control.focus();
      return;
    }
    submit.set(true);
    try {
      const body = { email: values.email.trim(), password: values.password };
      if (signingUp) {
        const { user, signedIn } = await api.signUp({ ...body, name: values.name.trim() });
        if (!signedIn) {
          submit.set(false);
          accountCreated(body.email);
          return;
        }
        app.prefillEmail = null;
        app.signedIn(user);
        return;
      }
      const result = await api.signIn(body);
      app.prefillEmail = null;
      app.twoFactorMethods = result.twoFactor ?? null;
      if (result.twoFactor) app.navigate('/two-factor');
      else app.signedIn(result.user);
    } catch (e) {
      submit.set(false);
      showError(e, values);
    }
  }

  /**
   * Sign-up that did not sign in: the server wants the address verified first (or answers
   * every sign-up alike). Say what happens next instead of showing the form again.
   */
  function accountCreated(email) {
    app.prefillEmail = email;
    const title = node.querySelector('h1');
    const card = node.querySelector('.auth-card');
    if (app.emailEnabled) {
      title.textContent = 'Check your inbox';
      replace(
        card,
        h('div', { class: 'auth-head' }, title),
        h('div', { class: 'landing-icon landing-info', 'aria-hidden': 'true' }, icon('mail')),
        h(
          'div',
          { class: 'landing-body', role: 'status' },
          h('p', null, 'We’ve sent a link to ', h('strong', { class: 'user-text' }, email), '. Open it to verify your address, then sign in.'),
          h('p', { class: 'muted' }, 'Nothing arrived? Check your spam folder. Signing in sends a new link.'),
        ),
        h('a', { href: '/sign-in', class: 'btn btn-primary btn-block', 'data-link': true }, 'Go to sign in'),
      );
      title.focus();
    } else {
      app.navigate('/sign-in', { notice: { kind: 'success', text: 'Your account is ready. Sign in to continue.' } });
    }
  }

  function showError(e, values) {
    const why = explain(e);
    const target = why.field && fields[why.field];
    if (target) {
      const extra = why.link
        ? [' ', h('a', { href: why.link.href, 'data-link': true, onclick: () => (app.prefillEmail = values.email.trim()) }, why.link.label)]
        : [];
      target.setError(why.text, ...extra);
      target.control.focus();
      if (why.field === 'password') target.control.select();
    } else if (why.kind) {
      alert.note(why.kind, why.text);
    } else if (why.retryAfter) {
      submit.el.disabled = true;
      alert.countdown(why.retryAfter, () => {
        submit.el.disabled = false;
      });
    } else {
      alert.show(why.text);
    }
  }

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'aria-labelledby': 'auth-title', onsubmit: onSubmit },
    alert.el,
    Object.values(fields).map((f) => f.wrap),
    submit.el,
    signingUp &&
      emailSignInWays().length > 0 &&
      h(
        'p',
        { class: 'form-aside' },
        h(
          'a',
          {
            href: '/sign-up/email',
            id: 'email-sign-up',
            'data-link': true,
            onclick: () => (app.prefillEmail = fields.email.value.trim() || null),
          },
          'Sign up without a password',
        ),
      ),
    !signingUp &&
      h(
        'p',
        { class: 'form-aside' },
        h(
          'a',
          { href: '/forgot-password', 'data-link': true, onclick: () => (app.prefillEmail = fields.email.value.trim() || null) },
          'Forgot your password?',
        ),
        emailSignInWays().length > 0 && [
          ' · ',
          h(
            'a',
            { href: '/sign-in/email', id: 'email-sign-in', 'data-link': true, onclick: () => (app.prefillEmail = fields.email.value.trim() || null) },
            'Email me a sign-in link or code',
          ),
        ],
      ),
  );

  // One button per configured identity provider, filled in once the list arrives.
  const providers = h('div', { class: 'auth-providers', hidden: true });
  api
    .listProviders()
    .then((list) => {
      if (!list.length) return;
      providers.replaceChildren(
        h('p', { class: 'auth-divider muted' }, signingUp ? 'or sign up with' : 'or continue with'),
        ...list.map((p) => {
          const button = busyButton({
            label: `Continue with ${p.name}`,
            busyLabel: `Opening ${p.name}…`,
            className: 'btn btn-secondary btn-block btn-provider',
            type: 'button',
          });
          button.el.dataset.provider = p.id;
          button.el.addEventListener('click', async () => {
            if (button.busy) return;
            alert.clear();
            button.set(true);
            try {
              location.assign(await api.startSocialSignIn(p.id));
            } catch (e) {
              button.set(false);
              showError(e, {});
            }
          });
          return button.el;
        }),
      );
      providers.hidden = false;
    })
    .catch(() => {});

  // Back from a provider with ?error=<code>: say what happened, in words.
  const returned = new URLSearchParams(location.search).get('error');
  if (returned) {
    alert.show(providerError(returned));
    history.replaceState(null, '', location.pathname);
  }

  const passkey = signingUp ? null : passkeySignIn(app, alert);
  const pending = app.takeNotice();
  const node = h(
    'section',
    { class: 'auth' },
    h(
      'div',
      { class: 'card auth-card' },
      h(
        'div',
        { class: 'auth-head' },
        h('h1', { id: 'auth-title', class: 'page-title', tabindex: '-1' }, signingUp ? 'Create your account' : 'Welcome back'),
        h(
          'p',
          { class: 'muted' },
          signingUp ? 'Keep track of your tasks, on every device.' : 'Sign in to pick up where you left off.',
        ),
      ),
      pending && notice(pending),
      form,
      passkey?.node,
      providers,
    ),
    h(
      'p',
      { class: 'auth-switch' },
      signingUp
        ? ['Already have an account? ', h('a', { href: '/sign-in', 'data-link': true }, 'Sign in')]
        : ['New to Tessera? ', h('a', { href: '/sign-up', 'data-link': true }, 'Create an account')],
    ),
  );
  return {
    node,
    dispose() {
      alert.dispose();
      passkey?.dispose();
    },
  };
}

/** What a provider sign-in that came back with `?error=<code>` means for the person. */
export function providerError(code) {
  switch (code) {
    case 'account_not_linked':
      return 'An account with this email already exists. Sign in with your password, then link the provider from your account page.';
    case 'access_denied':
      return 'Sign-in was cancelled at the provider.';
    case 'email_not_found':
      return 'The provider did not share an email address. Allow access to your email and try again.';
    case 'state_mismatch':
    case 'state_not_found':
      return 'That sign-in link has expired or was opened in another browser. Please try again.';
    case 'account_already_linked_to_different_user':
      return 'That provider account is already linked to another user.';
    case 'email_does_not_match':
    case 'unable_to_link_account':
      return 'The provider account could not be linked: its verified email must be the one of this account.';
    default:
      return 'Sign-in with the provider failed. Please try again.';
  }
}
