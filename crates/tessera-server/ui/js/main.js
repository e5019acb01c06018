// Starts the app: reads the session, routes between pages (History API), draws the
// navigation bar and the "verify your address" banner, and moves the user to sign-in
// whenever the session ends.

import { h, replace } from './dom.js';
import * as api from './api.js';
import { explain } from './errors.js';
import { icon } from './icons.js';
import { clear as clearToken, onSessionEnded } from './token.js';
import { accountView } from './views/account.js';
import { authView } from './views/auth.js';
import { emailSignInView } from './views/email_sign_in.js';
import { forgotPasswordView, resetPasswordView } from './views/recovery.js';
import { sessionsView } from './views/sessions.js';
import { tasksView } from './views/tasks.js';
import { verificationBanner, verifyEmailView } from './views/verify.js';
import { challengeView } from './views/two_factor.js';

/**
 * Pages; the server answers index.html for the same paths (ui/mod.rs PAGES). `guest`: only
 * signed out, `signedIn`: only signed in, neither: both (the pages emailed links lead to).
 */
/**
 * Old addresses kept working: the two-step verification section moved from /security to
 * the Account page.
 */
const MOVED = { '/security': '/account#account-two-factor' };

const ROUTES = {
  '/sign-in': { title: 'Sign in', guest: true, view: (app) => authView(app, 'sign-in') },
  '/sign-up': { title: 'Create your account', guest: true, view: (app) => authView(app, 'sign-up') },
  '/sign-in/email': { title: 'Sign in with your email', guest: true, view: (app) => emailSignInView(app, 'sign-in') },
  '/sign-up/email': { title: 'Create your account', guest: true, view: (app) => emailSignInView(app, 'sign-up') },
  '/forgot-password': { title: 'Reset your password', view: (app) => forgotPasswordView(app) },
  '/reset-password': { title: 'Choose a new password', view: (app) => resetPasswordView(app) },
  '/verify-email': { title: 'Verify your email', view: (app) => verifyEmailView(app) },
  '/tasks': { title: 'Tasks', signedIn: true, view: (app) => tasksView(app) },
  '/sessions': { title: 'Sessions', signedIn: true, view: (app) => sessionsView(app) },
  '/account': { title: 'Account', signedIn: true, view: (app) => accountView(app) },
  '/two-factor': { title: 'Two-step verification', guest: true, view: (app) => challengeView(app) },
};

/**
 * The query of the pages emailed links land on (`?token=…`, `?error=…`), taken out of the
 * address bar before anything else runs: the reset token must not stay in the history, in
 * a bookmark or on screen. The views read it once from `app.takeLanding()`.
 */
const LANDING_PAGES = ['/reset-password', '/verify-email'];
let landing = null;
if (LANDING_PAGES.includes(location.pathname) && location.search) {
  landing = { path: location.pathname, params: new URLSearchParams(location.search) };
  history.replaceState(null, '', location.pathname);
}

/** Whether this server sends email (index.html says; see ui/mod.rs). */
const EMAIL_ENABLED = document.querySelector('meta[name="tessera-email"]')?.content === 'on';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const toasts = document.getElementById('toasts');

let current = null; // { dispose } of the page on screen
let currentPath = null;
let pendingNotice = null;
/** Above every signed-in page while the address is unverified. */
const bannerSlot = h('div', { class: 'banner-slot' });
let banner = null;

/** What views get: the user and a few app-wide actions. */
const app = {
  user: null,
  prefillEmail: null,
  /** True when the server can send mail (verification, reset, change of address). */
  emailEnabled: EMAIL_ENABLED,
  navigate,
  toast,
  /** The query the current landing page was opened with (once), or empty. */
  takeLanding() {
    const mine = landing && landing.path === location.pathname ? landing.params : new URLSearchParams();
    landing = null;
    return mine;
  },
  /** Reads the session again (after a change of name, address or verification). */
  async refreshUser() {
    const user = (await api.getSession())?.user ?? null;
    if (!user && app.user) {
      onEnded();
      return null;
    }
    app.user = user;
    drawNav(currentPath);
    drawBanner();
    return user;
  },
  /** The session is over by the user's own doing (a password reset): go to sign-in. */
  signedOut(notice) {
    app.user = null;
    clearToken();
    navigate('/sign-in', { replace: true, notice });
  },
  /** A one-shot message for the next page (e.g. "You've signed out."). */
  takeNotice() {
    const n = pendingNotice;
    pendingNotice = null;
    return n;
  },
  signedIn(user) {
    app.user = user;
    navigate('/tasks');
  },
};

function navigate(path, { replace: replaceEntry = false, notice = null } = {}) {
  pendingNotice = notice;
  if (replaceEntry) history.replaceState(null, '', path);
  else if (location.pathname !== path) history.pushState(null, '', path);
  render({ focus: true });
}

function render({ focus }) {
  let path = location.pathname;
  if (path in MOVED) {
    history.replaceState(null, '', MOVED[path]);
    path = location.pathname;
  }
  if (path === '/' || !(path in ROUTES)) {
    path = app.user ? '/tasks' : '/sign-in';
    history.replaceState(null, '', path);
  }
  const route = ROUTES[path];
  if (route.signedIn && !app.user) {
    path = '/sign-in';
    history.replaceState(null, '', path);
  } else if (route.guest && app.user) {
    path = '/tasks';
    history.replaceState(null, '', path);
  }
  const page = ROUTES[path];
  current?.dispose?.();
  currentPath = path;
  document.title = `${page.title} · Tessera`;
  drawNav(path);
  drawBanner();
  current = page.view(app);
  replace(main, bannerSlot, current.node);
  const anchor = location.hash && document.getElementById(location.hash.slice(1));
  if (anchor) {
    anchor.scrollIntoView();
    if (focus) anchor.querySelector('h2')?.setAttribute('tabindex', '-1');
    if (focus) anchor.querySelector('h2')?.focus();
  } else if (focus) main.querySelector('h1')?.focus();
}

function drawNav(path) {
  document.body.classList.toggle('signed-in', Boolean(app.user));
  if (!app.user) {
    nav.hidden = true;
    nav.replaceChildren();
    return;
  }
  const link = (href, label, iconName) =>
    h('a', { href, class: 'nav-link', 'data-link': true, 'aria-current': path === href ? 'page' : null }, icon(iconName), h('span', null, label));
  const who = app.user.name || app.user.email;
  const signOut = h(
    'button',
    { type: 'button', class: 'btn btn-ghost btn-sm nav-signout', onclick: onSignOut },
    icon('logout'),
    h('span', null, 'Sign out'),
  );
  replace(
    nav,
    h(
      'div',
      { class: 'nav-links' },
      link('/tasks', 'Tasks', 'list'),
      link('/sessions', 'Sessions', 'shield'),
      link('/account', 'Account', 'user'),
    ),
    h(
      'div',
      { class: 'nav-user' },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, (who.trim()[0] ?? '?').toUpperCase()),
      h('span', { class: 'nav-user-text' }, h('span', { class: 'nav-user-name' }, who), h('span', { class: 'nav-user-email' }, app.user.email)),
      signOut,
    ),
  );
  nav.hidden = false;
}

/** The unverified-address banner: on every page but the landing of the link itself. */
function drawBanner() {
  const show = Boolean(app.user) && app.user.emailVerified === false && app.emailEnabled && currentPath !== '/verify-email';
  if (!show) {
    banner?.dispose();
    banner = null;
    bannerSlot.replaceChildren();
    return;
  }
  if (banner?.email === app.user.email) return;
  banner?.dispose();
  banner = verificationBanner(app);
  replace(bannerSlot, banner.node);
}

async function onSignOut(event) {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await api.signOut();
  } catch (e) {
    button.disabled = false;
    toast(explain(e).text, 'error');
    return;
  }
  app.user = null;
  navigate('/sign-in', { notice: { kind: 'success', text: 'You’ve signed out.' } });
}

function onEnded() {
  if (!app.user) return;
  app.user = null;
  navigate('/sign-in', {
    replace: true,
    notice: { kind: 'warning', text: 'Your session has ended. Sign in again to continue.' },
  });
}

onSessionEnded(onEnded);

/** A short message at the bottom of the screen, read out by screen readers. */
function toast(text, kind = 'info') {
  const el = h('div', { class: `toast toast-${kind}` }, kind === 'error' && icon('alert', 'icon-sm'), h('span', null, text));
  toasts.append(el);
  setTimeout(() => el.classList.add('is-leaving'), 3200);
  setTimeout(() => el.remove(), 3600);
}

/** In-app links navigate without reloading; modified clicks keep the browser's behaviour. */
document.addEventListener('click', (event) => {
  const a = event.target instanceof Element ? event.target.closest('a[data-link]') : null;
  if (!a || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  event.preventDefault();
  navigate(url.pathname);
});

window.addEventListener('popstate', () => render({ focus: true }));

async function boot() {
  main.setAttribute('aria-busy', 'true');
  try {
    app.user = (await api.getSession())?.user ?? null;
  } catch (e) {
    replace(
      main,
      h(
        'section',
        { class: 'auth' },
        h(
          'div',
          { class: 'card auth-card', role: 'alert' },
          h('h1', { class: 'page-title' }, 'Can’t load Tessera'),
          h('p', { class: 'muted' }, explain(e).text),
          h('button', { type: 'button', class: 'btn btn-primary btn-block', onclick: boot }, 'Try again'),
        ),
      ),
    );
    return;
  } finally {
    main.removeAttribute('aria-busy');
  }
  render({ focus: false });
}

boot();
