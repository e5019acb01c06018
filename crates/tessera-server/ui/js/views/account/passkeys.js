// Account → Passkeys: add a passkey on this device, rename and delete them
// (Better Auth's passkey plugin: /api/auth/passkey/*).

import { h } from '../../dom.js';
import * as api from '../../api.js';
import { explain } from '../../errors.js';
import { busyButton, field, formAlert } from '../../form.js';
import { shortDate } from '../../format.js';
import * as passkeys from '../../passkeys.js';
import { accountSection } from './section.js';

export function passkeysSection(app) {
  const alert = formAlert();
  const list = h('ul', { class: 'passkey-list', 'aria-label': 'Your passkeys' });
  const nameField = field({ id: 'passkey-name', label: 'Name (optional)', maxlength: 100, hint: 'E.g. “Laptop” or “Phone”.' });
  const add = busyButton({ label: 'Add a passkey', busyLabel: 'Waiting for your device…', iconName: 'key' });
  let disposed = false;

  function fail(e) {
    if (api.isSessionEnded(e) || disposed || e?.name === 'AbortError') return;
    alert.show(passkeys.passkeyProblem(e) ?? explain(e).text);
  }

  function row(p) {
    const label = p.name || 'Passkey';
    const rename = h('button', { type: 'button', class: 'btn btn-secondary', 'data-action': 'rename' }, 'Rename');
    const remove = h('button', { type: 'button', class: 'btn btn-danger-outline', 'data-action': 'delete' }, 'Delete');
    const item = h(
      'li',
      { class: 'passkey', 'data-passkey': p.id },
      h(
        'div',
        { class: 'passkey-text' },
        h('strong', { class: 'user-text passkey-name' }, label),
        h('span', { class: 'muted' }, ` · ${p.deviceType === 'multiDevice' ? 'synced' : 'this device only'} · added ${shortDate(p.createdAt)}`),
      ),
      h('div', { class: 'passkey-actions' }, rename, remove),
    );
    rename.addEventListener('click', async () => {
      const next = prompt('Name this passkey', p.name ?? '');
      if (next === null || !next.trim()) return;
      alert.clear();
      try {
        await passkeys.renamePasskey(p.id, next.trim());
        app.toast('Passkey renamed');
        await refresh();
      } catch (e) {
        fail(e);
      }
    });
    remove.addEventListener('click', async () => {
      if (!confirm(`Delete the passkey “${label}”? You can no longer sign in with it.`)) return;
      alert.clear();
      try {
        await passkeys.deletePasskey(p.id);
        app.toast('Passkey deleted');
        await refresh();
      } catch (e) {
        fail(e);
      }
    });
    return item;
  }

  async function refresh() {
    const rows = await passkeys.listPasskeys();
    if (disposed) return;
    list.replaceChildren(
      ...(rows.length ? rows.map(row) : [h('li', { class: 'muted passkey-empty' }, 'No passkeys yet.')]),
    );
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (add.busy) return;
    alert.clear();
    add.set(true);
    try {
      await passkeys.addPasskey(nameField.value.trim());
      if (disposed) return;
      nameField.control.value = '';
      alert.note('success', 'Passkey added. Next time, sign in with it: no password needed.');
      app.toast('Passkey added');
      await refresh();
    } catch (e) {
      fail(e);
    } finally {
      add.set(false);
    }
  }

  const supported = passkeys.supported();
  const node = accountSection(
    {
      id: 'passkeys',
      title: 'Passkeys',
      description: 'Sign in with your fingerprint, face or screen lock instead of a password.',
      iconName: 'key',
    },
    alert.el,
    list,
    supported
      ? h('form', { class: 'form', novalidate: true, 'aria-label': 'Add a passkey', onsubmit: onSubmit }, nameField.wrap, h('div', { class: 'form-actions' }, add.el))
      : h('p', { class: 'muted' }, 'This browser cannot use passkeys.'),
  );
  refresh().catch(fail);
  return {
    node,
    dispose() {
      disposed = true;
      alert.dispose();
    },
  };
}
