import { ApiError, messageOf, type Issue, type Registry, type RegistryEdit } from '../api.ts';
import { h } from '../dom.ts';
import { handleAuth } from '../session.ts';
import type { ConsoleCtx } from './ctx.ts';
import { field, note, showIssues } from './ui.ts';

type Fields = ReturnType<typeof fieldsOf>;
type Field = Fields[keyof Fields];

/** What the API lets this token edit: every registry for a platform admin, a workspace admin's own registries. */
export const mayEdit = (ctx: ConsoleCtx, r: Registry) => ctx.platformAdmin || (!!r.ownerWorkspaceId && ctx.ownWorkspaces.includes(r.ownerWorkspaceId));

const fieldsOf = (r: Registry) => {
  const input = (type = 'text', value = '') => h('input', { type, value, autocomplete: type === 'password' ? 'new-password' : 'off', spellcheck: 'false' });
  const check = (checked: boolean) => h('input', { type: 'checkbox', checked });
  const keep = 'Leave both empty to keep the current ones; new ones are tried against the registry first.';
  return {
    name: field('edit-registry-name', 'Name', input('text', r.name)),
    url: field('edit-registry-url', 'URL', input('url', r.url ?? ''), `Images are named after its host (now ${r.host}).`),
    confirm: field('edit-registry-confirm', 'Move the registry to the new host', check(false)),
    username: field('edit-registry-username', 'Admin username', input(), keep),
    password: field('edit-registry-password', 'Admin password', input('password')),
    pullUsername: field('edit-registry-pull-username', 'Read-only pull username', input(), `Every namespace’s pull secret carries this account, never the admin one. ${keep}`),
    pullPassword: field('edit-registry-pull-password', 'Read-only pull password', input('password')),
    removePull: field('edit-registry-remove-pull', 'Remove the pull credentials (anonymous pulls)', check(false)),
    insecure: field('edit-registry-insecure', 'Skip TLS verification (a self-signed certificate)', check(r.insecure ?? false)),
  };
};

const control = (f: Field) => f.wrap.querySelector('input') as HTMLInputElement;
const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
};
/** A new account from two fields; undefined when both are empty (keep the current one). */
const account = (user: Field, password: Field) => {
  const username = control(user).value.trim();
  const secret = control(password).value;
  return username || secret ? { username, password: secret } : undefined;
};

/** Only what differs from the registry as listed: the API checks and stores nothing else. */
const changesOf = (r: Registry, f: Fields): RegistryEdit => {
  const name = control(f.name).value.trim();
  const url = control(f.url).value.trim();
  const credentials = account(f.username, f.password);
  const pull = account(f.pullUsername, f.pullPassword);
  const insecure = control(f.insecure).checked;
  return {
    ...(name !== r.name ? { name } : {}),
    ...(url !== (r.url ?? '') ? { url } : {}),
    ...(url !== r.url && control(f.confirm).checked ? { confirmHostChange: true } : {}),
    ...(credentials ? { credentials } : {}),
    ...(control(f.removePull).checked ? { pullCredentials: null } : pull ? { pullCredentials: pull } : {}),
    ...(insecure !== (r.insecure ?? false) ? { insecure } : {}),
  };
};

/** What the page can tell before asking: an unconfirmed move to another host, half an account. */
const problemsOf = (r: Registry, edit: RegistryEdit): Issue[] => {
  const half = (path: string, a: { username: string; password: string } | null | undefined): Issue[] =>
    a && (!a.username || !a.password) ? [{ path: `${path}.${a.username ? 'password' : 'username'}`, message: 'Give the username and the password, or neither to keep the current ones.' }] : [];
  const host = edit.url === undefined ? undefined : hostOf(edit.url);
  return [
    ...(host && host !== r.host && !edit.confirmHostChange ? [{ path: 'confirmHostChange', message: `Confirm the move from ${r.host} to ${host}: every image reference is re-derived under the new host.` }] : []),
    ...half('credentials', edit.credentials),
    ...half('pullCredentials', edit.pullCredentials),
  ];
};

/** The API's issue paths → the field that shows them (a refused account next to its username, as in the connect form). */
const FIELD_OF: Partial<Record<string, keyof Fields>> = {
  name: 'name',
  url: 'url',
  confirmHostChange: 'confirm',
  credentials: 'username',
  'credentials.username': 'username',
  'credentials.password': 'password',
  pullCredentials: 'pullUsername',
  'pullCredentials.username': 'pullUsername',
  'pullCredentials.password': 'pullPassword',
  insecure: 'insecure',
};

/** The confirmation shows only while the URL names another host, and says what the move does. */
const followHost = (r: Registry, f: Fields) => () => {
  const host = hostOf(control(f.url).value.trim());
  const moving = !!host && host !== r.host;
  f.confirm.wrap.hidden = !moving;
  if (!moving) control(f.confirm).checked = false;
  const label = f.confirm.wrap.querySelector('label');
  if (label) label.textContent = moving ? `Move from ${r.host} to ${host}: every image reference in the index is re-derived under ${host}` : 'Move the registry to the new host';
};

/** Sends the changes (nothing when nothing changed); a refusal changes nothing and is shown by the field it names. */
const submitter = (ctx: ConsoleCtx, r: Registry, f: Fields, ui: { formError: HTMLElement; progress: HTMLElement; submit: HTMLButtonElement }, saved: (r: Registry) => void) => async (e: SubmitEvent) => {
  e.preventDefault();
  for (const x of Object.values(f)) x.setError('');
  ui.formError.textContent = '';
  const edit = changesOf(r, f);
  if (!Object.keys(edit).length) return void (ui.formError.textContent = 'Nothing to save: no field was changed.');
  ui.submit.disabled = true;
  ui.progress.textContent = edit.credentials || edit.pullCredentials || edit.url ? 'Saving: the service checks the registry first…' : 'Saving…';
  try {
    const problems = problemsOf(r, edit);
    if (problems.length) throw new ApiError(400, 'BAD_REQUEST', 'Fix the fields marked below.', problems);
    saved(await ctx.api.updateRegistry(r.id, edit));
  } catch (error) {
    if (handleAuth(error)) return;
    // The API stores nothing of a refused edit; its reason (the registry's own, for a refused account) is said in full.
    showIssues(f, FIELD_OF, error, ui.formError, messageOf(error));
    ui.formError.textContent = `Nothing was changed: ${ui.formError.textContent ?? ''}`;
  } finally {
    ui.progress.textContent = '';
    ui.submit.disabled = false;
  }
};

/** Edit a registry (`PATCH /registries/{id}`): `saved` gets the registry as stored, `close` is Cancel. */
export const editForm = (ctx: ConsoleCtx, r: Registry, saved: (r: Registry) => void, close: () => void) => {
  const f = fieldsOf(r);
  const ui = { formError: h('p', { class: 'error', role: 'alert', id: 'edit-registry-error' }), progress: note('edit-registry-progress'), submit: h('button', { type: 'submit', class: 'primary', id: 'edit-registry-submit' }, 'Save changes') };
  const docker = r.kind === 'docker-registry';
  // Harbor's pull access is its robots: the API refuses pull credentials for it, so they are not offered.
  for (const x of [f.pullUsername, f.pullPassword]) x.wrap.hidden = !docker;
  f.removePull.wrap.hidden = !docker || !r.pullCredentialsSetAt;
  f.confirm.wrap.hidden = true;
  control(f.url).addEventListener('input', followHost(r, f));
  const send = submitter(ctx, r, f, ui, saved);
  return h(
    'form',
    { class: 'connect edit-registry', id: 'edit-registry-form', 'data-registry': r.id, 'aria-labelledby': 'edit-registry-title', novalidate: true, onsubmit: (e: SubmitEvent) => void send(e) },
    h('h3', { id: 'edit-registry-title' }, `Edit ${r.name}`),
    h('p', { class: 'hint' }, 'Only the fields you change are sent; the whole change is checked before any of it is stored. Id, spaces, bindings and the index are kept.'),
    h('div', { class: 'grid' }, ...[f.name, f.url, f.username, f.password, f.pullUsername, f.pullPassword].map((x) => x.wrap)),
    h('div', { class: 'check' }, f.confirm.wrap, f.removePull.wrap, f.insecure.wrap),
    ui.formError,
    h('div', { class: 'row' }, ui.submit, h('button', { type: 'button', class: 'cancel', id: 'edit-registry-cancel', onclick: close }, 'Cancel'), ui.progress),
  );
};
