// The task list: add, edit, complete, delete.

import { h, replace, srOnly } from '../dom.js';
import * as api from '../api.js';
import { explain } from '../errors.js';
import { busyButton, field, formAlert } from '../form.js';
import { fullDate, relativeTime } from '../format.js';
import { icon } from '../icons.js';

const PAGE_SIZE = 100;

export function tasksView(app) {
  const userId = app.user.id;
  const nodes = new Map(); // task id → { task, li }
  let disposed = false;

  // --- add form ---------------------------------------------------------------------
  const addAlert = formAlert();
  const title = field({
    id: 'new-task-title',
    label: 'Title',
    placeholder: 'What needs to get done?',
    maxlength: 200,
    autocomplete: 'off',
    required: true,
  });
  const description = field({
    id: 'new-task-description',
    label: 'Description',
    optional: true,
    textarea: true,
    rows: 2,
    maxlength: 2000,
    placeholder: 'Add a few details',
  });
  const addButton = busyButton({ label: 'Add task', busyLabel: 'Adding…', iconName: 'plus' });
  const addForm = h(
    'form',
    { class: 'form add-form', novalidate: true, 'aria-labelledby': 'add-title', onsubmit: onAdd },
    addAlert.el,
    title.wrap,
    description.wrap,
    h('div', { class: 'form-actions' }, addButton.el),
  );

  async function onAdd(event) {
    event.preventDefault();
    if (addButton.busy) return;
    addAlert.clear();
    title.clearError();
    description.clearError();
    const t = title.value.trim();
    if (!t) {
      title.setError('Give the task a title.');
      title.control.focus();
      return;
    }
    addButton.set(true);
    try {
      const task = await api.createTask(userId, { title: t, description: description.value });
      if (disposed) return;
      title.control.value = '';
      description.control.value = '';
      insert(task);
      updateSummary();
      app.toast(`Added “${task.title}”`);
      title.control.focus();
    } catch (e) {
      if (api.isSessionEnded(e) || disposed) return;
      const why = explain(e);
      const target = { title, description }[why.field];
      if (target) {
        target.setError(why.text);
        target.control.focus();
      } else addAlert.show(why.text);
    } finally {
      addButton.set(false);
    }
  }

  // --- list ---------------------------------------------------------------------------
  const list = h('ul', { class: 'task-list', 'aria-labelledby': 'list-title' });
  const listBody = h('div', { class: 'list-body', 'aria-live': 'polite', 'aria-busy': 'true' });
  const summary = h('p', { class: 'muted', id: 'task-summary' });
  const moreButton = busyButton({ label: 'Show more', busyLabel: 'Loading…', type: 'button', className: 'btn btn-secondary' });
  moreButton.el.addEventListener('click', () => load(nodes.size));
  const more = h('div', { class: 'list-more', hidden: true }, moreButton.el);

  function skeleton() {
    return h(
      'div',
      { class: 'skeleton-list' },
      srOnly('Loading your tasks…'),
      [0, 1, 2].map(() =>
        h('div', { class: 'skeleton-row', 'aria-hidden': 'true' }, h('span', { class: 'skeleton-box' }), h('span', { class: 'skeleton-line' })),
      ),
    );
  }

  function emptyState() {
    return h(
      'div',
      { class: 'empty' },
      h('div', { class: 'empty-icon' }, icon('list')),
      h('p', { class: 'empty-title' }, 'No tasks yet — add your first one'),
      h('p', { class: 'muted' }, 'Tasks you add show up here. Only you can see them.'),
    );
  }

  function showListOrEmpty() {
    // Moving the list in the DOM would drop keyboard focus: only swap when it changes.
    if (nodes.size && list.parentNode !== listBody) replace(listBody, list);
    else if (!nodes.size && !listBody.querySelector('.empty')) replace(listBody, emptyState());
  }

  function updateSummary() {
    const all = [...nodes.values()].map((n) => n.task);
    const done = all.filter((t) => t.completed).length;
    const open = all.length - done;
    summary.textContent = all.length
      ? `${open} to do · ${done} done`
      : 'Nothing here yet.';
    showListOrEmpty();
  }

  function insert(task) {
    const li = taskItem(task);
    nodes.set(task.id, { task, li });
    list.append(li);
  }

  function refresh(task) {
    const entry = nodes.get(task.id);
    if (!entry) return;
    const li = taskItem(task);
    entry.li.replaceWith(li);
    nodes.set(task.id, { task, li });
    return li;
  }

  function itemError(li, e) {
    if (api.isSessionEnded(e) || disposed) return;
    const box = li.querySelector('.task-error');
    if (!box) return;
    replace(box, icon('alert', 'icon-sm'), h('span', null, explain(e).text));
    box.hidden = false;
  }

  function metaText(task) {
    return task.completed ? `Done · added ${relativeTime(task.createdAt)}` : `Added ${relativeTime(task.createdAt)}`;
  }

  function taskItem(task) {
    const checkId = `task-${task.id}`;
    const check = h('input', {
      type: 'checkbox',
      id: checkId,
      class: 'task-check',
      'aria-describedby': `${checkId}-meta`,
    });
    check.checked = task.completed;
    const meta = h('p', { class: 'task-meta', id: `${checkId}-meta`, title: fullDate(task.createdAt) }, metaText(task));
    const li = h(
      'li',
      { class: ['task', task.completed && 'is-done'], dataset: { id: task.id } },
      h('div', { class: 'task-check-wrap' }, check, h('span', { class: 'task-check-box', 'aria-hidden': 'true' }, icon('check'))),
      h(
        'div',
        { class: 'task-body' },
        h('label', { for: checkId, class: 'task-title' }, task.title),
        task.description && h('p', { class: 'task-desc' }, task.description),
        meta,
        h('p', { class: 'task-error', role: 'alert', hidden: true }),
      ),
      h(
        'div',
        { class: 'task-actions' },
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Edit “${task.title}”`, title: 'Edit', onclick: () => edit(task) }, icon('pencil')),
        h('button', { type: 'button', class: 'icon-btn icon-btn-danger', 'aria-label': `Delete “${task.title}”`, title: 'Delete', onclick: (e) => remove(task, e.currentTarget) }, icon('trash')),
      ),
    );
    // Completing updates the row in place, so keyboard focus stays on the checkbox. While
    // the server has not answered, further clicks are ignored rather than the box disabled
    // (disabling a focused control would drop focus).
    let saving = false;
    check.addEventListener('click', (event) => {
      if (saving) event.preventDefault();
    });
    check.addEventListener('change', async () => {
      const wanted = check.checked;
      saving = true;
      li.classList.add('is-saving');
      li.classList.toggle('is-done', wanted);
      li.querySelector('.task-error').hidden = true;
      try {
        const updated = await api.updateTask(userId, task.id, { completed: wanted });
        if (disposed) return;
        const entry = nodes.get(task.id);
        if (entry) entry.task = updated;
        task = updated;
        meta.textContent = metaText(updated);
        updateSummary();
      } catch (e) {
        check.checked = !wanted;
        li.classList.toggle('is-done', !wanted);
        itemError(li, e);
      } finally {
        saving = false;
        li.classList.remove('is-saving');
      }
    });
    return li;
  }

  async function remove(task, button) {
    const entry = nodes.get(task.id);
    if (!entry) return;
    button.disabled = true;
    try {
      await api.deleteTask(userId, task.id);
    } catch (e) {
      button.disabled = false;
      // Already gone (deleted elsewhere): drop it here too.
      if (!(e instanceof api.ApiError && e.status === 404)) return itemError(entry.li, e);
    }
    if (disposed) return;
    // Keep keyboard focus nearby: the next task, else the previous, else the title field.
    const sibling = entry.li.nextElementSibling ?? entry.li.previousElementSibling;
    entry.li.remove();
    nodes.delete(task.id);
    updateSummary();
    app.toast(`Deleted “${task.title}”`);
    (sibling?.querySelector('.task-check') ?? title.control).focus();
  }

  function edit(task) {
    const entry = nodes.get(task.id);
    if (!entry) return;
    const alert = formAlert();
    const t = field({ id: `edit-title-${task.id}`, label: 'Title', maxlength: 200, value: task.title, required: true });
    const d = field({ id: `edit-desc-${task.id}`, label: 'Description', optional: true, textarea: true, rows: 3, maxlength: 2000, value: task.description });
    const save = busyButton({ label: 'Save', busyLabel: 'Saving…' });
    const cancel = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Cancel');
    const back = () => {
      const li = refresh(nodes.get(task.id)?.task ?? task);
      li?.querySelector('.icon-btn')?.focus();
    };
    cancel.addEventListener('click', back);
    const form = h(
      'form',
      {
        class: 'form edit-form',
        novalidate: true,
        'aria-label': `Edit “${task.title}”`,
        onkeydown: (e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            back();
          }
        },
        onsubmit: async (e) => {
          e.preventDefault();
          if (save.busy) return;
          alert.clear();
          t.clearError();
          d.clearError();
          const newTitle = t.value.trim();
          if (!newTitle) {
            t.setError('Give the task a title.');
            t.control.focus();
            return;
          }
          save.set(true);
          try {
            const updated = await api.updateTask(userId, task.id, { title: newTitle, description: d.value });
            if (disposed) return;
            nodes.get(task.id).task = updated;
            back();
            updateSummary();
            app.toast('Changes saved');
          } catch (err) {
            save.set(false);
            if (api.isSessionEnded(err) || disposed) return;
            const why = explain(err);
            const target = { title: t, description: d }[why.field];
            if (target) {
              target.setError(why.text);
              target.control.focus();
            } else alert.show(why.text);
          }
        },
      },
      alert.el,
      t.wrap,
      d.wrap,
      h('div', { class: 'form-actions' }, cancel, save.el),
    );
    const li = h('li', { class: 'task is-editing', dataset: { id: task.id } }, form);
    entry.li.replaceWith(li);
    entry.li = li;
    t.control.focus();
    t.control.select();
  }

  // --- loading ------------------------------------------------------------------------
  async function load(offset = 0) {
    if (offset === 0) {
      listBody.setAttribute('aria-busy', 'true');
      replace(listBody, skeleton());
      summary.textContent = 'Loading…';
    } else moreButton.set(true);
    try {
      const page = await api.listTasks(userId, { limit: PAGE_SIZE, offset });
      if (disposed) return;
      for (const task of page) if (!nodes.has(task.id)) insert(task);
      more.hidden = page.length < PAGE_SIZE;
      updateSummary();
    } catch (e) {
      if (api.isSessionEnded(e) || disposed) return;
      summary.textContent = 'Your tasks could not be loaded.';
      replace(
        listBody,
        h(
          'div',
          { class: 'load-error', role: 'alert' },
          h('p', null, icon('alert', 'icon-sm'), ' ', explain(e).text),
          h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => load(0) }, 'Try again'),
        ),
      );
    } finally {
      listBody.setAttribute('aria-busy', 'false');
      moreButton.set(false);
    }
  }

  const node = h(
    'section',
    { class: 'page' },
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', { class: 'page-title', tabindex: '-1' }, 'Tasks'), summary),
    ),
    h(
      'div',
      { class: 'page-grid' },
      h('div', { class: 'card' }, h('h2', { id: 'add-title', class: 'card-title' }, 'New task'), addForm),
      h('div', { class: 'card card-flush' }, h('h2', { id: 'list-title', class: 'card-title card-title-pad' }, 'Your tasks'), listBody, more),
    ),
  );
  load(0);
  return {
    node,
    dispose() {
      disposed = true;
      addAlert.dispose();
    },
  };
}
