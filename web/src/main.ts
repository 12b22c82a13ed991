import { createAdminPanel, type AdminPanel } from './admin.ts';
import { createConsole } from './console/index.ts';
import { messageOf } from './api.ts';
import { byId, h } from './dom.ts';
import { adminHooks, openNamespaces, selector, selectorState, wireSelector } from './selector/index.ts';
import { adminWorkspacesOf, api, handleAuth, keepToken, onSignedOut, session } from './session.ts';
import { createSignin, renderWho, showSigninMessage, who } from './signin.ts';
import './styles.css';

// ---- the page skeleton (built once; regions are re-filled) ----

const signin = createSignin((raw) => keepToken(raw) && void start());
const adminPanel = h('section', { id: 'admin', class: 'panel', 'aria-labelledby': 'admin-title', hidden: true });
/** Built for platform admins only. */
let admin: AdminPanel | undefined;

const consoleUi = createConsole((shown) => {
  selector.hidden = !shown;
  adminPanel.hidden = !shown || !session.me?.admin;
});

byId('app', HTMLDivElement).append(
  h('header', { class: 'bar' }, h('h1', {}, 'Image selector'), consoleUi.nav, who),
  h('main', {}, signin, selector, adminPanel, consoleUi.section),
);

const showSignin = (message = '') => {
  consoleUi.enable(undefined);
  signin.hidden = false;
  selector.hidden = true;
  adminPanel.hidden = true;
  showSigninMessage(message);
};
onSignedOut(showSignin);

/** With a token: what it opens (`/me/namespaces`), then the selector (and the admin tools for platform admins). */
const start = async () => {
  if (!session.token) return showSignin();
  try {
    session.me = await api.myNamespaces();
  } catch (error) {
    if (!handleAuth(error)) showSignin(messageOf(error));
    return;
  }
  const me = session.me;
  signin.hidden = true;
  selector.hidden = false;
  renderWho();
  // Another token may have replaced an admin's in this tab.
  admin = me.admin ? (admin ?? createAdminPanel(adminPanel, { api, namespace: () => selectorState.ns, handleAuth })) : undefined;
  adminHooks.current = admin;
  adminPanel.hidden = !me.admin;
  const ownWorkspaces = adminWorkspacesOf(session.token);
  consoleUi.enable(me.admin || ownWorkspaces.length ? { api, platformAdmin: me.admin, ownWorkspaces } : undefined);
  openNamespaces(me);
  if (me.items.length) byId('q', HTMLInputElement).focus();
};

wireSelector();
void start();
