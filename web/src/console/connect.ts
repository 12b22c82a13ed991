import type { Connected, NewRegistry } from '../api.ts';
import { h } from '../dom.ts';
import { handleAuth } from '../session.ts';
import type { ConsoleCtx } from './ctx.ts';
import { field, note, showIssues } from './ui.ts';

type Fields = ReturnType<typeof fieldsOf>;

const fieldsOf = (ctx: ConsoleCtx) => {
  const input = (type = 'text') => h('input', { type, autocomplete: 'off', spellcheck: 'false' });
  const select = (...options: [string, string][]) => h('select', {}, ...options.map(([value, text]) => h('option', { value }, text)));
  const owners: [string, string][] = [...(ctx.platformAdmin ? [['', 'The platform (spaces can be made public or bound)'] as [string, string]] : []), ...ctx.ownWorkspaces.map((w): [string, string] => [w, `Workspace ${w} (offered to it only)`])];
  return {
    name: field('connect-name', 'Name', input(), 'How the console and the audit trail call it.'),
    kind: field('connect-kind', 'Kind', select(['harbor', 'Harbor'], ['docker-registry', 'Docker Registry (distribution)'])),
    mode: field('connect-mode', 'Mode', select(['hosted', 'Hosted: the platform runs it'], ['integrated', 'Integrated: an existing registry']), 'Hosted Harbors get their projects created and made public by the service.'),
    url: field('connect-url', 'URL', input('url'), 'http(s)://host[:port] as the service reaches it; images are named after its host.'),
    username: field('connect-username', 'Admin username', input(), 'Harbor: an admin (or project admin) account; Docker Registry: its htpasswd account. Leave empty for none.'),
    password: field('connect-password', 'Admin password', input('password')),
    insecure: field('connect-insecure', 'Skip TLS verification (a self-signed certificate)', h('input', { type: 'checkbox' })),
    owner: field('connect-owner', 'Owned by', select(...owners)),
  };
};

const bodyOf = (f: Fields): NewRegistry => {
  const value = (x: { wrap: HTMLElement }) => x.wrap.querySelector<HTMLInputElement | HTMLSelectElement>('input, select')?.value.trim() ?? '';
  const username = value(f.username);
  const password = f.password.wrap.querySelector('input')?.value ?? '';
  return {
    name: value(f.name),
    kind: value(f.kind),
    mode: value(f.mode),
    url: value(f.url),
    ...(username || password ? { credentials: { username, password } } : {}),
    ...(f.insecure.wrap.querySelector('input')?.checked ? { insecure: true } : {}),
  };
};

/** The API's issue paths (`credentials.username`, `url`) → the field that shows them. */
const FIELD_OF: Record<string, keyof Fields> = { name: 'name', kind: 'kind', mode: 'mode', url: 'url', credentials: 'username', 'credentials.username': 'username', 'credentials.password': 'password', insecure: 'insecure' };

/** The connect form; `connected` gets the answer (which holds the webhook secret, shown once). */
export const connectForm = (ctx: ConsoleCtx, connected: (r: Connected) => void) => {
  const f = fieldsOf(ctx);
  const formError = h('p', { class: 'error', role: 'alert', id: 'connect-error' });
  const progress = note('connect-progress');
  const submit = h('button', { type: 'submit', class: 'primary', id: 'connect-submit' }, 'Connect');
  const onSubmit = async (e: SubmitEvent) => {
    e.preventDefault();
    for (const x of Object.values(f)) x.setError('');
    formError.textContent = '';
    submit.disabled = true;
    progress.textContent = 'Connecting: the service checks the registry first…';
    const owner = f.owner.wrap.querySelector('select')?.value ?? '';
    try {
      connected(await ctx.api.connect(bodyOf(f), owner || undefined));
      form.reset();
      progress.textContent = '';
    } catch (error) {
      progress.textContent = '';
      if (!handleAuth(error)) showIssues(f, FIELD_OF, error, formError);
    } finally {
      submit.disabled = false;
    }
  };
  const form = h(
    'form',
    { class: 'connect', id: 'connect-form', 'aria-labelledby': 'connect-title', novalidate: true, onsubmit: (e: SubmitEvent) => void onSubmit(e) },
    h('h3', { id: 'connect-title' }, 'Connect a registry'),
    h('div', { class: 'grid' }, ...[f.name, f.kind, f.mode, f.url, f.username, f.password, f.owner].map((x) => x.wrap)),
    h('div', { class: 'check' }, f.insecure.wrap),
    formError,
    h('div', { class: 'row' }, submit, progress),
  );
  if (f.owner.wrap.querySelectorAll('option').length < 2) f.owner.wrap.hidden = true;
  return form;
};
