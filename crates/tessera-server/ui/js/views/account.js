// The Account page: one section per feature, in the order of SECTIONS.
//
// To add a section (identity providers, two-factor, passkeys…): write a module in
// views/account/ exporting a function `(app) → { node, dispose? }` whose node is built with
// `accountSection()` (views/account/section.js: a card with an h2, its own form alert and
// status line), import it here and list it in SECTIONS; embed the file in ui/mod.rs ASSETS.
// Sections share nothing but `app` (the user, `refreshUser()`, `toast()`), so one section's
// failure never blocks another.

import { h } from '../dom.js';
import { emailSection } from './account/email.js';
import { linkedSection } from './account/linked.js';
import { passkeysSection } from './account/passkeys.js';
import { passwordSection } from './account/password.js';
import { profileSection } from './account/profile.js';
import { twoFactorSection } from './two_factor.js';

const SECTIONS = [profileSection, emailSection, passwordSection, linkedSection, twoFactorSection, passkeysSection];

export function accountView(app) {
  const sections = SECTIONS.map((make) => make(app));
  const node = h(
    'section',
    { class: 'page account' },
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('h1', { class: 'page-title', tabindex: '-1' }, 'Account'),
        h('p', { class: 'muted' }, 'Your name, email address, and how you sign in.'),
      ),
    ),
    h('div', { class: 'account-sections' }, sections.map((s) => s.node)),
  );
  return {
    node,
    dispose() {
      for (const s of sections) s.dispose?.();
    },
  };
}
