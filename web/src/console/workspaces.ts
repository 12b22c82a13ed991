import { ApiError, messageOf, type NamespaceRef, type Workspace } from '../api.ts';
import { fill, h } from '../dom.ts';
import { handleAuth } from '../session.ts';
import type { ConsoleCtx } from './ctx.ts';
import { empty, field, loadInto, note } from './ui.ts';
import { showWorkspaceDetail } from './workspace-detail.ts';

/** An RFC 1123 label, as the API checks workspace ids, clusters and namespaces. */
const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const labelProblem = (v: string) => (!v ? 'Required.' : v.length > 63 ? 'At most 63 characters.' : LABEL.test(v) ? '' : 'Lower-case letters, digits and -, starting and ending with a letter or digit.');

type Data = { workspaces: Workspace[]; namespaces: NamespaceRef[] };

const submitter = (out: HTMLElement, work: () => Promise<unknown>, fields: Record<string, { setError: (m: string) => void }>, done: () => void) => async (e: SubmitEvent) => {
  e.preventDefault();
  out.textContent = 'Saving…';
  try {
    await work();
    out.textContent = 'Saved.';
    done();
  } catch (error) {
    if (handleAuth(error)) return;
    const issues = error instanceof ApiError ? error.issues : [];
    for (const i of issues) fields[i.path]?.setError(i.message);
    out.textContent = messageOf(error);
  }
};

const workspaceForm = (ctx: ConsoleCtx, done: () => void) => {
  const id = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const fId = field('new-workspace-id', 'Workspace id', id, 'An RFC 1123 label, e.g. team-a: tokens name it in their workspaces claim.');
  const fName = field('new-workspace-name', 'Display name (optional)', name);
  id.addEventListener('input', () => fId.setError(id.value ? labelProblem(id.value) : ''));
  const out = note('new-workspace-note');
  const send = submitter(out, () => (labelProblem(id.value) ? Promise.reject(new ApiError(400, 'BAD_REQUEST', labelProblem(id.value), [{ path: 'id', message: labelProblem(id.value) }])) : ctx.api.putWorkspace(id.value, name.value.trim() || undefined)), { id: fId, displayName: fName }, done);
  return h('form', { id: 'workspace-form', 'aria-labelledby': 'workspace-form-title', novalidate: true, onsubmit: (e: SubmitEvent) => void send(e) }, h('h3', { id: 'workspace-form-title' }, 'Create a workspace'), h('div', { class: 'grid' }, fId.wrap, fName.wrap), h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'workspace-submit' }, 'Create workspace'), out));
};

const namespaceForm = (ctx: ConsoleCtx, d: Data, done: () => void) => {
  const cluster = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: d.namespaces[0]?.cluster ?? '' });
  const namespace = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const workspace = h('select', {}, h('option', { value: '' }, 'No workspace (public images only)'), ...d.workspaces.map((w) => h('option', { value: w.id }, w.id)));
  const f = { cluster: field('bind-ns-cluster', 'Cluster', cluster), namespace: field('bind-ns-namespace', 'Namespace', namespace), workspaceId: field('bind-ns-workspace', 'Workspace', workspace) };
  const out = note('bind-ns-note');
  const send = submitter(out, () => ctx.api.putNamespace(cluster.value.trim(), namespace.value.trim(), workspace.value || null), f, done);
  return h(
    'form',
    { id: 'namespace-form', 'aria-labelledby': 'namespace-form-title', novalidate: true, onsubmit: (e: SubmitEvent) => void send(e) },
    h('h3', { id: 'namespace-form-title' }, 'Bind a namespace to a workspace'),
    h('p', { class: 'hint' }, 'The namespace then sees the public images and those of the spaces bound to that workspace; moving it away rotates its old workspace’s pull credentials.'),
    h('div', { class: 'grid' }, f.cluster.wrap, f.namespace.wrap, f.workspaceId.wrap),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'bind-ns-submit' }, 'Bind namespace'), out),
  );
};

const workspacesTable = (d: Data, show: (workspaceId: string) => void) =>
  d.workspaces.length
    ? h(
        'table',
        { class: 'list', id: 'workspaces-table' },
        h('caption', { class: 'sr-only' }, 'Workspaces'),
        h('thead', {}, h('tr', {}, ...['Workspace', 'Display name', 'Namespaces', 'Spaces and robots'].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          ...d.workspaces.map((w) => {
            const ns = d.namespaces.filter((n) => n.workspaceId === w.id).map((n) => `${n.cluster}/${n.namespace}`);
            return h(
              'tr',
              { 'data-workspace': w.id },
              h('th', { scope: 'row' }, w.id),
              h('td', {}, w.displayName ?? ''),
              h('td', { class: 'namespaces' }, ns.length ? ns.join(', ') : 'none'),
              h('td', { class: 'actions' }, h('button', { type: 'button', class: 'details', 'aria-label': `Spaces and robots of ${w.id}`, 'aria-controls': 'workspace-detail', onclick: () => show(w.id) }, 'Show')),
            );
          }),
        ),
      )
    : empty('No workspace yet', 'A workspace is a tenant: private spaces are bound to it, namespaces belong to it.');

const unbound = (d: Data) => {
  const loose = d.namespaces.filter((n) => !n.workspaceId).map((n) => `${n.cluster}/${n.namespace}`);
  return loose.length ? h('p', { class: 'hint', id: 'loose-namespaces' }, `Bound to no workspace (public images only): ${loose.join(', ')}`) : null;
};

/** Workspaces and namespaces: list and create workspaces, bind namespaces (binding stays the platform admin's), and a workspace's spaces and robots. */
export const workspacesPage = (ctx: ConsoleCtx, into: HTMLElement) => {
  const body = h('div', { id: 'workspaces-body' });
  const detail = h('section', { id: 'workspace-detail', class: 'workspace-detail', 'aria-labelledby': 'workspace-detail-title', 'aria-live': 'polite', hidden: true });
  const show = (workspaceId: string) => {
    detail.hidden = false;
    showWorkspaceDetail(ctx, detail, workspaceId);
  };
  const reload = () =>
    void loadInto(
      body,
      'workspaces',
      async () => ({ workspaces: (await ctx.api.workspaces()).items, namespaces: (await ctx.api.namespaces()).items }),
      (d) => fill(body, workspacesTable(d, show), unbound(d), detail, ctx.platformAdmin ? workspaceForm(ctx, reload) : null, ctx.platformAdmin ? namespaceForm(ctx, d, reload) : h('p', { class: 'hint' }, 'Creating workspaces and binding namespaces is the platform admin’s.')),
    );
  fill(into, h('h2', { id: 'console-title' }, 'Workspaces and namespaces'), body);
  reload();
};
