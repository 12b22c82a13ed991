import { fill, h } from './dom.ts';
import { claimsOf, forgetToken, session } from './session.ts';
import { ago } from './tags.ts';

/** The header's greeting (who, role, expiry) and the Forget token button. */
export const who = h('div', { class: 'who', id: 'who' });

const tokenInput = h('input', { id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-hint' });
const signinError = h('p', { class: 'error', role: 'alert', id: 'signin-error' });

/** The sign-in panel; `onToken` gets what was pasted. */
export const createSignin = (onToken: (raw: string) => void) =>
  h(
    'section',
    { id: 'signin', class: 'panel', 'aria-labelledby': 'signin-title', hidden: true },
    h('h2', { id: 'signin-title' }, 'Sign in with a token'),
    h(
      'form',
      { onsubmit: (e: SubmitEvent) => (e.preventDefault(), onToken(tokenInput.value), (tokenInput.value = '')) },
      h('label', { for: 'token' }, 'Bearer token'),
      h('div', { class: 'row' }, tokenInput, h('button', { type: 'submit', class: 'primary' }, 'Use token')),
      h('p', { id: 'token-hint', class: 'hint' }, 'Readers get a token from their identity provider; `npm start` prints an admin token. It stays in this browser tab only (sessionStorage).'),
    ),
    signinError,
  );

const roleOf = (workspaces: string[] | undefined) => {
  if (session.me?.admin) return 'platform admin';
  return workspaces?.length ? `workspaces ${workspaces.join(', ')}` : 'reader';
};

export const renderWho = () => {
  if (!session.token) return fill(who);
  const claims = claimsOf(session.token);
  const expires = claims?.exp ? new Date(claims.exp * 1000).toISOString() : undefined;
  fill(
    who,
    h('span', {}, claims?.sub ?? 'token', ' · ', roleOf(claims?.workspaces), expires ? ` · expires ${ago(expires)}` : ''),
    h('button', { type: 'button', id: 'forget', onclick: () => forgetToken() }, 'Forget token'),
  );
};

/** Shows sign-in with `message` (why the last token was dropped, if it was). */
export const showSigninMessage = (message: string) => {
  signinError.textContent = message;
  renderWho();
  tokenInput.focus();
};
