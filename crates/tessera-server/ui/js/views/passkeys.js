// The sign-in page's passkey parts: a "Use a passkey" button and conditional UI
// (the browser offers the user's passkeys in the email field's autofill, which is marked
// `autocomplete="username webauthn"`). Either ends like a password sign-in: the app, or
// the two-factor page when the passkey did not verify the user and the account asks for a
// second factor.

import { h } from '../dom.js';
import { explain } from '../errors.js';
import { busyButton } from '../form.js';
import * as passkeys from '../passkeys.js';

/** `{ node, dispose }`; `alert` is the sign-in form's alert. */
export function passkeySignIn(app, alert) {
  if (!passkeys.supported()) return { node: null, dispose() {} };
  const button = busyButton({
    label: 'Use a passkey',
    busyLabel: 'Waiting for your passkey…',
    className: 'btn btn-secondary btn-block btn-passkey',
    type: 'button',
    iconName: 'key',
  });
  let autofill = null;
  let disposed = false;

  function done(result) {
    if (disposed) return;
    app.prefillEmail = null;
    if (result.twoFactor) app.navigate('/two-factor');
    else app.signedIn(result.user);
  }

  function fail(e) {
    if (disposed || e?.name === 'AbortError') return;
    alert.show(passkeys.passkeyProblem(e) ?? explain(e).text);
  }

  // Conditional UI: one pending request, replaced when the button starts its own.
  async function startAutofill() {
    if (!(await passkeys.autofillSupported()) || disposed) return;
    autofill = new AbortController();
    try {
      done(await passkeys.signInWithPasskey({ conditional: true, signal: autofill.signal }));
    } catch (e) {
      // Autofill is opportunistic: only the server's answer to a chosen passkey is news.
      if (e?.status > 0) fail(e);
    }
  }

  button.el.addEventListener('click', async () => {
    if (button.busy) return;
    alert.clear();
    autofill?.abort();
    button.set(true);
    try {
      done(await passkeys.signInWithPasskey());
    } catch (e) {
      button.set(false);
      fail(e);
      startAutofill();
    }
  });
  startAutofill();

  return {
    node: h('div', { class: 'auth-passkey' }, h('p', { class: 'auth-divider muted' }, 'or'), button.el),
    dispose() {
      disposed = true;
      autofill?.abort();
    },
  };
}
