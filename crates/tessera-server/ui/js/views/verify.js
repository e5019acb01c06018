// Email verification: the banner shown while the address is unverified, and the page the
// link in the verification mail lands on (`/verify-email`, or `/verify-email?error=CODE`).

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { explain, tooManyAttempts } from '../errors.js';
import { busyButton } from '../form.js';
import { icon } from '../icons.js';

/**
 * "Verify your address" with a button that sends the link again. Returns
 * { node, email, dispose }; main.js draws it above every page while the address of the
 * signed-in user is unverified.
 */
export function verificationBanner(app) {
  const { email } = app.user;
  let timer = null;
  const status = h('p', { class: 'banner-status', role: 'status', 'aria-live': 'polite' });
  const resend = busyButton({
    label: 'Send the link again',
    busyLabel: 'Sending…',
    type: 'button',
    className: 'btn btn-secondary btn-sm',
  });

  function wait(seconds, text) {
    resend.el.disabled = true;
    let left = seconds;
    status.textContent = text(left);
    clearInterval(timer);
    timer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        clearInterval(timer);
        resend.el.disabled = false;
        status.textContent = '';
      } else {
        status.textContent = text(left);
      }
    }, 1000);
  }

  resend.el.addEventListener('click', async () => {
    resend.set(true);
    status.textContent = '';
    try {
      await api.sendVerificationEmail({ email });
      resend.set(false);
      status.textContent = `Sent. Check your inbox at ${email}.`;
    } catch (e) {
      resend.set(false);
      if (api.isSessionEnded(e)) return;
      if (e instanceof api.ApiError && e.code === 'EMAIL_ALREADY_VERIFIED') {
        await app.refreshUser().catch(() => null);
        app.toast('Your email address is already verified.');
        return;
      }
      const why = explain(e);
      if (why.retryAfter) wait(why.retryAfter, tooManyAttempts);
      else status.textContent = why.text;
    }
  });

  const node = h(
    'section',
    { class: 'banner banner-warning', 'aria-labelledby': 'verify-banner-title' },
    h('span', { class: 'banner-icon' }, icon('mail')),
    h(
      'div',
      { class: 'banner-body' },
      h('p', { id: 'verify-banner-title', class: 'banner-title' }, 'Verify your email address'),
      h(
        'p',
        { class: 'banner-text' },
        'We sent a link to ',
        h('strong', { class: 'user-text' }, email),
        '. Open it to confirm the address is yours.',
      ),
      status,
    ),
    h('div', { class: 'banner-actions' }, resend.el),
  );
  return {
    node,
    email,
    dispose() {
      clearInterval(timer);
    },
  };
}

/** What each error code of `/api/auth/verify-email` means to the person holding the link. */
function failure(code) {
  switch (code) {
    case 'TOKEN_EXPIRED':
      return { title: 'This link has expired', text: 'Verification links work for a limited time. Ask for a new one below.' };
    case 'INVALID_TOKEN':
      return {
        title: 'This link can’t be used',
        text: 'It may have been used already, copied incompletely, or replaced by a newer link. Ask for a new one below.',
      };
    case 'USER_NOT_FOUND':
    case 'INVALID_USER':
      return { title: 'This account no longer exists', text: 'The account this link was for has been deleted.' };
    default:
      return { title: 'This link can’t be used', text: 'Something about it was not right. Ask for a new one below.' };
  }
}

/** The page the verification link lands on. */
export function verifyEmailView(app) {
  const params = app.takeLanding();
  const error = params.get('error');
  const changeTo = params.get('change');
  const body = h('div', { class: 'landing-body', 'aria-live': 'polite' });
  const title = h('h1', { class: 'page-title', tabindex: '-1' }, 'Verify your email');
  let disposed = false;

  const continueLink = () =>
    app.user
      ? h('a', { href: '/tasks', class: 'btn btn-primary btn-block', 'data-link': true }, 'Continue to your tasks')
      : h('a', { href: '/sign-in', class: 'btn btn-primary btn-block', 'data-link': true }, 'Sign in');

  function show(kind, heading, ...content) {
    title.textContent = heading;
    replace(
      body,
      h('div', { class: `landing-icon landing-${kind}`, 'aria-hidden': 'true' }, icon(kind === 'success' ? 'check' : kind === 'info' ? 'mail' : 'alert')),
      content,
    );
  }

  function showFailure() {
    const why = failure(error);
    const next = app.user
      ? h('a', { href: '/account', class: 'btn btn-primary btn-block', 'data-link': true }, 'Go to your account')
      : h('a', { href: '/sign-in', class: 'btn btn-primary btn-block', 'data-link': true }, 'Sign in');
    const hint = app.user
      ? 'Your account page can send a new link.'
      : 'Sign in: if your address still needs verifying, we’ll send you a new link.';
    show('error', why.title, h('p', { class: 'muted' }, why.text), h('p', { class: 'muted' }, hint), next);
  }

  async function showSuccess() {
    // The link worked. When this browser is signed in, the session says what is true now
    // (the banner goes away); otherwise the redirect is all we know.
    if (app.user) {
      show('info', 'Checking…', h('p', { class: 'muted' }, 'One moment…'));
      await app.refreshUser().catch(() => null);
      if (disposed) return;
      // A session read in the same second as the click may predate it: look once more
      // before saying the change did not happen.
      const pending = changeTo ? app.user?.email !== changeTo.toLowerCase() : app.user?.emailVerified === false;
      if (pending) {
        await new Promise((r) => setTimeout(r, 1_200));
        if (disposed) return;
        await app.refreshUser().catch(() => null);
        if (disposed) return;
      }
    }
    if (changeTo) {
      if (app.user && app.user.email === changeTo.toLowerCase()) {
        show('success', 'Your email address is changed', h('p', { class: 'muted' }, 'You now sign in with ', h('strong', { class: 'user-text' }, app.user.email), '.'), continueLink());
      } else if (app.user) {
        show(
          'info',
          'One more step',
          h('p', { class: 'muted' }, 'Thanks for confirming. We’ve sent a link to ', h('strong', { class: 'user-text' }, changeTo), ': open it to finish changing your address.'),
          continueLink(),
        );
      } else {
        show(
          'success',
          'Link confirmed',
          h(
            'p',
            { class: 'muted' },
            'If this link came to your current address, we’ve now sent one more to ',
            h('strong', { class: 'user-text' }, changeTo),
            ': open it to finish. If it came to that new address, the change is done: sign in with it.',
          ),
          continueLink(),
        );
      }
      return;
    }
    if (app.user && app.user.emailVerified === false) {
      show(
        'error',
        'Your address isn’t verified yet',
        h('p', { class: 'muted' }, 'Open the link we emailed to ', h('strong', { class: 'user-text' }, app.user.email), ', or send a new one from your account page.'),
        h('a', { href: '/account', class: 'btn btn-primary btn-block', 'data-link': true }, 'Go to your account'),
      );
      return;
    }
    show(
      'success',
      'Your email address is verified',
      h('p', { class: 'muted' }, app.user ? 'Thanks: your account is all set.' : 'Thanks. Sign in to continue.'),
      continueLink(),
    );
  }

  if (error) showFailure();
  else showSuccess().catch((e) => show('error', 'Something went wrong', h('p', { class: 'muted' }, explain(e).text)));

  const node = h(
    'section',
    { class: 'auth' },
    h('div', { class: 'card auth-card landing' }, h('div', { class: 'auth-head' }, title), body),
  );
  return {
    node,
    dispose() {
      disposed = true;
    },
  };
}
