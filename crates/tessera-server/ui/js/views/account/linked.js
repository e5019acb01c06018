// Account → Sign-in methods: the password and the identity providers linked to this
// account (GET /api/auth/list-accounts), a "Link" button per configured provider not linked
// yet (POST /api/auth/link-social: the browser goes to the provider and comes back to
// /account, with ?error=<code> when the link was refused), and "Unlink" (POST
// /api/auth/unlink-account). The server refuses to remove the last way to sign in and asks
// for a recent sign-in; both refusals are shown in words.

import { h, replace } from '../../dom.js';
import * as api from '../../api.js';
import { explain } from '../../errors.js';
import { shortDate } from '../../format.js';
import { busyButton, formAlert } from '../../form.js';
import { providerError } from '../auth.js';
import { accountSection } from './section.js';

export function linkedSection(app) {
  const alert = formAlert();
  const list = h('ul', { class: 'linked-list', 'aria-label': 'Ways to sign in', 'aria-busy': 'true' });
  const linkable = h('div', { class: 'linked-add' });
  let disposed = false;

  // Back from a provider: `?error=<code>` says why the link did not happen; without it the
  // link worked.
  const params = new URLSearchParams(location.search);
  const returned = params.get('error');
  if (returned) {
    alert.show(linkError(returned));
    history.replaceState(null, '', location.pathname + location.hash);
  }

  async function load() {
    let accounts;
    let providers;
    try {
      [accounts, providers] = await Promise.all([api.listAccounts(), api.listProviders().catch(() => [])]);
    } catch (e) {
      if (!api.isSessionEnded(e) && !disposed) alert.show(explain(e).text);
      return;
    }
    if (disposed) return;
    list.removeAttribute('aria-busy');
    const names = new Map(providers.map((p) => [p.id, p.name]));
    const linked = new Set(accounts.map((a) => a.providerId));
    replace(
      list,
      accounts.map((a) => row(a, names)),
    );
    const missing = providers.filter((p) => !linked.has(p.id));
    replace(
      linkable,
      missing.length ? h('p', { class: 'muted' }, 'Link another provider to sign in with it too:') : null,
      missing.length ? h('div', { class: 'linked-buttons' }, missing.map(linkButton)) : null,
    );
  }

  function row(account, names) {
    if (account.providerId === 'credential') {
      return h(
        'li',
        { class: 'linked-item', 'data-provider': 'credential' },
        h('span', { class: 'linked-name' }, 'Password'),
        h('span', { class: 'muted linked-meta' }, 'Change it in the Password section.'),
      );
    }
    const name = names.get(account.providerId) ?? account.providerId;
    const unlink = busyButton({
      label: 'Unlink',
      busyLabel: 'Unlinking…',
      className: 'btn btn-sm btn-danger-outline',
      type: 'button',
    });
    unlink.el.setAttribute('aria-label', `Unlink ${name}`);
    unlink.el.addEventListener('click', async () => {
      if (unlink.busy) return;
      alert.clear();
      unlink.set(true);
      try {
        await api.unlinkAccount(account.id);
        if (disposed) return;
        app.toast(`${name} unlinked`);
        alert.note('success', `${name} is no longer linked to your account.`);
        await load();
      } catch (e) {
        if (api.isSessionEnded(e) || disposed) return;
        unlink.set(false);
        alert.show(explain(e).text);
        if (e instanceof api.ApiError && e.code === 'ACCOUNT_NOT_FOUND') load();
      }
    });
    return h(
      'li',
      { class: 'linked-item', 'data-provider': account.providerId },
      h('span', { class: 'linked-name user-text' }, name),
      h('span', { class: 'muted linked-meta' }, `Linked ${shortDate(account.createdAt)}`),
      unlink.el,
    );
  }

  function linkButton(p) {
    const button = busyButton({
      label: `Link ${p.name}`,
      busyLabel: `Opening ${p.name}…`,
      className: 'btn btn-secondary btn-provider',
      type: 'button',
    });
    button.el.dataset.provider = p.id;
    button.el.addEventListener('click', async () => {
      if (button.busy) return;
      alert.clear();
      button.set(true);
      try {
        location.assign(await api.startLinkSocial(p.id));
      } catch (e) {
        if (api.isSessionEnded(e) || disposed) return;
        button.set(false);
        alert.show(explain(e).text);
      }
    });
    return button.el;
  }

  load();
  const node = accountSection(
    {
      id: 'linked',
      title: 'Sign-in methods',
      description: 'Your password and the providers you can sign in with.',
      iconName: 'shield',
    },
    alert.el,
    list,
    linkable,
  );
  return {
    node,
    dispose() {
      disposed = true;
      alert.dispose();
    },
  };
}

/** What a link that came back with `?error=<code>` means. */
function linkError(code) {
  switch (code) {
    case 'account_already_linked_to_different_user':
      return 'That provider account is already linked to another user, so it was not linked to yours.';
    case 'session_not_fresh':
      return 'For your security, sign in again before linking a provider.';
    default:
      return providerError(code);
  }
}
