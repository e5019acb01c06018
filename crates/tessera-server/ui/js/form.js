// Form building blocks: labelled fields with hints and live error messages, a form-level
// alert, and a submit button with a busy state.

import { h, replace } from './dom.js';
import { icon } from './icons.js';
import { tooManyAttempts } from './errors.js';

/**
 * A labelled input (or textarea). Returns { wrap, control, value, setError, clearError }.
 * Options: id, label, type, hint, optional, textarea, hideLabel, reveal (password toggle),
 * plus any attribute for the control (autocomplete, maxlength, placeholder…).
 */
export function field(options) {
  const { id, label, type = 'text', hint, optional, textarea, hideLabel, reveal, ...attrs } = options;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const control = h(textarea ? 'textarea' : 'input', {
    id,
    name: id,
    type: textarea ? null : type,
    class: textarea ? 'input textarea' : 'input',
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
    ...attrs,
  });
  const error = h('p', { id: errorId, class: 'field-error', 'aria-live': 'polite' });
  let box = control;
  if (reveal) {
    const toggle = h(
      'button',
      { type: 'button', class: 'reveal', 'aria-pressed': 'false', 'aria-controls': id, 'aria-label': 'Show password' },
      icon('eye'),
    );
    toggle.addEventListener('click', () => {
      const show = control.type === 'password';
      control.type = show ? 'text' : 'password';
      toggle.setAttribute('aria-pressed', String(show));
      toggle.setAttribute('aria-label', show ? 'Hide password' : 'Show password');
      replace(toggle, icon(show ? 'eyeOff' : 'eye'));
    });
    box = h('div', { class: 'input-with-button' }, control, toggle);
  }
  const wrap = h(
    'div',
    { class: 'field' },
    h('label', { for: id, class: hideLabel ? 'sr-only' : 'label' }, label, optional && h('span', { class: 'optional' }, ' (optional)')),
    box,
    hint && h('p', { id: hintId, class: 'hint' }, hint),
    error,
  );
  return {
    wrap,
    control,
    get value() {
      return control.value;
    },
    /** Shows a message (text or nodes) under the field and marks it invalid. */
    setError(...content) {
      replace(error, icon('alert', 'icon-sm'), h('span', null, content));
      control.setAttribute('aria-invalid', 'true');
      wrap.classList.add('invalid');
    },
    clearError() {
      error.replaceChildren();
      control.removeAttribute('aria-invalid');
      wrap.classList.remove('invalid');
    },
  };
}

/** A form-level message region (role=alert), hidden while empty. */
export function formAlert() {
  const el = h('div', { class: 'form-alert', role: 'alert', hidden: true });
  let countdown = null;
  const stop = () => {
    clearInterval(countdown);
    countdown = null;
  };
  return {
    el,
    show(...content) {
      this.note('error', ...content);
    },
    /** A message that is not a failure: `kind` 'warning' or 'success' (or 'error'). */
    note(kind, ...content) {
      stop();
      el.setAttribute('class', kind === 'error' ? 'form-alert' : `form-alert form-alert-${kind}`);
      replace(el, icon(kind === 'success' ? 'check' : kind === 'warning' ? 'mail' : 'alert', 'icon-sm'), h('span', null, content));
      el.hidden = false;
    },
    /** "Too many attempts, try again in N seconds", counting down; `onDone` when it reaches 0. */
    countdown(seconds, onDone) {
      let left = seconds;
      this.show(tooManyAttempts(left));
      const text = el.querySelector('span');
      countdown = setInterval(() => {
        left -= 1;
        if (left <= 0) {
          stop();
          this.clear();
          onDone?.();
        } else {
          text.textContent = tooManyAttempts(left);
        }
      }, 1000);
    },
    clear() {
      stop();
      el.replaceChildren();
      el.hidden = true;
    },
    dispose: stop,
  };
}

/** A button that shows a spinner and a different label while busy. */
export function busyButton({ label, busyLabel, className = 'btn btn-primary', type = 'submit', iconName }) {
  const text = h('span', null, label);
  const button = h('button', { type, class: className }, iconName && icon(iconName), text);
  let busy = false;
  return {
    el: button,
    get busy() {
      return busy;
    },
    set(isBusy) {
      busy = isBusy;
      button.disabled = isBusy;
      button.classList.toggle('is-busy', isBusy);
      text.textContent = isBusy ? busyLabel : label;
      if (isBusy) button.prepend(h('span', { class: 'spinner spinner-sm', 'aria-hidden': 'true' }));
      else button.querySelector('.spinner')?.remove();
    },
  };
}

/** A notice banner (info, success, warning). */
export function notice({ kind = 'info', text }) {
  return h('div', { class: `notice notice-${kind}`, role: 'status' }, text);
}

/** A checkbox with its label after it. Returns { wrap, control }. */
export function checkbox({ id, label, checked = false, hint }) {
  const hintId = hint ? `${id}-hint` : null;
  const control = h('input', { id, name: id, type: 'checkbox', class: 'checkbox', checked, 'aria-describedby': hintId });
  const wrap = h(
    'div',
    { class: 'field field-check' },
    h('div', { class: 'check-row' }, control, h('label', { for: id, class: 'check-label' }, label)),
    hint && h('p', { id: hintId, class: 'hint' }, hint),
  );
  return { wrap, control };
}
