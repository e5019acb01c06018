// Account → Profile: the display name (POST /api/auth/update-user).

import { h } from '../../dom.js';
import * as api from '../../api.js';
import { explain } from '../../errors.js';
import { busyButton, field, formAlert } from '../../form.js';
import { accountSection } from './section.js';

export function profileSection(app) {
  const alert = formAlert();
  const name = field({
    id: 'account-name',
    label: 'Name',
    autocomplete: 'name',
    maxlength: 200,
    required: true,
    value: app.user.name ?? '',
  });
  const save = busyButton({ label: 'Save name', busyLabel: 'Saving…' });
  let disposed = false;

  async function onSubmit(event) {
    event.preventDefault();
    if (save.busy) return;
    alert.clear();
    name.clearError();
    const value = name.value.trim();
    if (!value) {
      name.setError('Enter your name.');
      name.control.focus();
      return;
    }
    if (value === app.user.name) {
      alert.note('success', 'Your name is saved.');
      return;
    }
    save.set(true);
    try {
      await api.updateUser({ name: value });
      await app.refreshUser();
      if (disposed) return;
      name.control.value = app.user?.name ?? value;
      alert.note('success', 'Your name is saved.');
      app.toast('Name saved');
    } catch (e) {
      if (api.isSessionEnded(e) || disposed) return;
      const why = explain(e);
      if (why.field === 'name') {
        name.setError(why.text);
        name.control.focus();
      } else {
        alert.show(why.text);
      }
    } finally {
      save.set(false);
    }
  }

  const node = accountSection(
    { id: 'profile', title: 'Profile', description: 'The name shown in the app.', iconName: 'user' },
    h(
      'form',
      { class: 'form', novalidate: true, 'aria-label': 'Profile', onsubmit: onSubmit },
      alert.el,
      name.wrap,
      h('div', { class: 'form-actions' }, save.el),
    ),
  );
  return {
    node,
    dispose() {
      disposed = true;
      alert.dispose();
    },
  };
}
