import type { PullGrant, Registry, WorkspaceDetail } from '../api.ts';
import { fill, h } from '../dom.ts';
import { ago } from '../tags.ts';
import type { ConsoleCtx } from './ctx.ts';
import { empty, loadInto } from './ui.ts';

type Detail = { workspace: WorkspaceDetail; registries: Registry[] };

/** A registry as the admin knows it; a workspace admin does not list platform registries, so the id stands in. */
const registryName = (d: Detail, id: string) => {
  const r = d.registries.find((x) => x.id === id);
  return r ? `${r.name} (${r.host})` : id;
};

const listTable = (id: string, caption: string, columns: string[], rows: HTMLTableRowElement[]) =>
  h(
    'table',
    { class: 'list', id },
    h('caption', { class: 'sr-only' }, caption),
    h('thead', {}, h('tr', {}, ...columns.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows),
  );

const spacesOf = (d: Detail) => {
  const w = d.workspace.id;
  const owned = d.registries.filter((r) => r.ownerWorkspaceId === w);
  return [
    h('h4', {}, 'Spaces bound to it'),
    d.workspace.spaces.length
      ? listTable('workspace-spaces', `Spaces bound to ${w}`, ['Registry', 'Space'], d.workspace.spaces.map((s) => h('tr', { 'data-space': s.space }, h('td', {}, registryName(d, s.registryId)), h('th', { scope: 'row' }, s.space))))
      : empty('No space bound', 'Bind a private space to it under Registries → Spaces → Bindings…: its namespaces are then offered its images.'),
    owned.length ? h('p', { class: 'hint', id: 'workspace-owned' }, `Registries it owns (every space offered to it only): ${owned.map((r) => `${r.name} (${r.host})`).join(', ')}`) : null,
  ];
};

const expiry = (g: PullGrant) => {
  const at = g.robot?.expiresAt;
  if (at === undefined) return '—';
  return at === null ? 'never' : h('time', { datetime: at, title: at }, at.slice(0, 10));
};

const robotRow = (d: Detail, g: PullGrant) =>
  h(
    'tr',
    { 'data-robot': g.robot?.name ?? '' },
    h('td', {}, registryName(d, g.registryId)),
    h('th', { scope: 'row' }, g.robot?.name ?? 'not created yet'),
    h('td', {}, g.projects.length ? g.projects.join(', ') : 'none', g.robot && g.robot.projects.join() !== g.projects.join() ? h('p', { class: 'hint' }, `Harbor holds: ${g.robot.projects.join(', ') || 'none'}`) : null),
    h('td', {}, h('span', { class: `health ${g.status === 'synced' ? 'healthy' : g.status}` }, g.status), g.statusMessage ? h('p', { class: 'hint' }, g.statusMessage) : null),
    h('td', {}, g.syncedAt ? h('time', { datetime: g.syncedAt, title: g.syncedAt }, ago(g.syncedAt)) : 'never'),
    h('td', {}, expiry(g)),
  );

const robotsOf = (d: Detail) => [
  h('h4', {}, 'Harbor robots (pull access)'),
  d.workspace.pullAccess.length
    ? listTable('workspace-robots', `Harbor robots of ${d.workspace.id}`, ['Registry', 'Robot', 'Projects', 'Status', 'Last sync', 'Expires'], d.workspace.pullAccess.map((g) => robotRow(d, g)))
    : empty('No Harbor robot', 'The service creates one on a Harbor when a private space there is bound to the workspace; its namespaces’ pull secrets carry it.'),
  h('p', { class: 'hint' }, 'Robot secrets are never shown: they reach a namespace only inside its pull secret.'),
];

/** A workspace's spaces and Harbor robots (`GET /workspaces/{id}`), into `into`, with every state of a console region. */
export const showWorkspaceDetail = (ctx: ConsoleCtx, into: HTMLElement, workspaceId: string) => {
  const body = h('div', { id: 'workspace-detail-body' });
  fill(into, h('h3', { id: 'workspace-detail-title', tabindex: -1 }, `Workspace ${workspaceId}: spaces and robots`), body);
  into.querySelector<HTMLElement>('#workspace-detail-title')?.focus();
  void loadInto(
    body,
    `the spaces and robots of ${workspaceId}`,
    async () => {
      const [workspace, { items }] = await Promise.all([ctx.api.workspace(workspaceId), ctx.api.registries()]);
      return { workspace, registries: items };
    },
    (d) => fill(body, ...spacesOf(d), ...robotsOf(d)),
  );
};
