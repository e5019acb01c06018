// Active sessions: see where you are signed in, end the ones you don't want.

import { h, replace, srOnly } from '../dom.js';
import * as api from '../api.js';
import { explain } from '../errors.js';
import { busyButton } from '../form.js';
import { describeAgent, fullDate, relativeTime, shortDate } from '../format.js';
import { icon } from '../icons.js';

export function sessionsView(app) {
  let disposed = false;
  let sessions = [];
  const body = h('div', { class: 'list-body', 'aria-busy': 'true' });
  const message = h('div', { class: 'form-alert', role: 'alert', hidden: true });
  const revokeOthers = busyButton({
    label: 'Sign out other sessions',
    busyLabel: 'Signing out…',
    type: 'button',
    className: 'btn btn-danger-outline',
    iconName: 'logout',
  });
  revokeOthers.el.hidden = true;
  revokeOthers.el.addEventListener('click', async () => {
    revokeOthers.set(true);
    try {
      await api.revokeOtherSessions();
      if (disposed) return;
      sessions = sessions.filter((s) => s.current);
      render();
      app.toast('Signed out of every other session');
      body.querySelector('.session')?.focus();
    } catch (e) {
      fail(e);
    } finally {
      revokeOthers.set(false);
    }
  });

  function fail(e) {
    if (api.isSessionEnded(e) || disposed) return;
    replace(message, icon('alert', 'icon-sm'), h('span', null, explain(e).text));
    message.hidden = false;
  }

  function item(s) {
    const agent = describeAgent(s.userAgent);
    const label = `${agent.label}${s.current ? ' (this device)' : ''}`;
    const meta = [
      s.ipAddress || 'Unknown address',
      `Signed in ${relativeTime(s.createdAt)}`,
      `Expires ${shortDate(s.expiresAt)}`,
    ];
    const li = h(
      'li',
      { class: ['session', s.current && 'is-current'], tabindex: '-1' },
      h('div', { class: 'session-icon' }, icon(agent.mobile ? 'phone' : 'monitor')),
      h(
        'div',
        { class: 'session-body' },
        h(
          'p',
          { class: 'session-title' },
          agent.label,
          s.current && h('span', { class: 'badge badge-accent' }, 'This device'),
        ),
        h(
          'p',
          { class: 'session-meta', title: `Signed in ${fullDate(s.createdAt)}` },
          meta.flatMap((m, i) => [
            i > 0 && h('span', { class: 'dot', 'aria-hidden': 'true' }, ' · '),
            h('span', { class: 'nowrap' }, m),
          ]),
        ),
      ),
    );
    if (!s.current) {
      const revoke = busyButton({
        label: 'Revoke',
        busyLabel: 'Revoking…',
        type: 'button',
        className: 'btn btn-secondary btn-sm',
      });
      revoke.el.setAttribute('aria-label', `Revoke ${label}, signed in ${relativeTime(s.createdAt)}`);
      revoke.el.addEventListener('click', async () => {
        revoke.set(true);
        try {
          await api.revokeSession(s.token);
          if (disposed) return;
          const next = li.nextElementSibling ?? li.previousElementSibling;
          sessions = sessions.filter((x) => x.id !== s.id);
          render();
          app.toast(`Revoked ${agent.label} session`);
          (next ? body.querySelector(`[data-id="${CSS.escape(next.dataset.id)}"]`) : null)?.focus();
        } catch (e) {
          revoke.set(false);
          fail(e);
        }
      });
      li.append(h('div', { class: 'session-actions' }, revoke.el));
    }
    li.dataset.id = s.id;
    return li;
  }

  function render() {
    const others = sessions.filter((s) => !s.current).length;
    revokeOthers.el.hidden = others === 0;
    replace(
      body,
      h('ul', { class: 'session-list', 'aria-label': 'Active sessions' }, sessions.map(item)),
      others === 0 && h('p', { class: 'list-note muted' }, icon('shield', 'icon-sm'), ' This is your only active session.'),
    );
  }

  async function load() {
    body.setAttribute('aria-busy', 'true');
    replace(
      body,
      h(
        'div',
        { class: 'skeleton-list' },
        srOnly('Loading your sessions…'),
        [0, 1].map(() =>
          h('div', { class: 'skeleton-row', 'aria-hidden': 'true' }, h('span', { class: 'skeleton-box' }), h('span', { class: 'skeleton-line' })),
        ),
      ),
    );
    try {
      const list = await api.listSessions();
      if (disposed) return;
      // This device first, then the newest.
      sessions = [...list].sort(
        (a, b) => Number(b.current === true) - Number(a.current === true) || Date.parse(b.createdAt) - Date.parse(a.createdAt),
      );
      render();
    } catch (e) {
      if (api.isSessionEnded(e) || disposed) return;
      replace(
        body,
        h(
          'div',
          { class: 'load-error', role: 'alert' },
          h('p', null, icon('alert', 'icon-sm'), ' ', explain(e).text),
          h('button', { type: 'button', class: 'btn btn-secondary', onclick: load }, 'Try again'),
        ),
      );
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }

  const node = h(
    'section',
    { class: 'page' },
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('h1', { class: 'page-title', tabindex: '-1' }, 'Sessions'),
        h('p', { class: 'muted' }, 'Devices signed in to your account. Revoke any you don’t recognise.'),
      ),
      revokeOthers.el,
    ),
    message,
    h('div', { class: 'card card-flush' }, body),
  );
  load();
  return {
    node,
    dispose() {
      disposed = true;
    },
  };
}
