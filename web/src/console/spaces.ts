import { messageOf, type Registry, type Space, type Workspace } from '../api.ts';
import { fill, h } from '../dom.ts';
import { handleAuth } from '../session.ts';
import { bindingsEditor } from './bindings.ts';
import { audienceOf, confirmNarrowing, type SpaceRef } from './changes.ts';
import { confirmChange } from './confirm.ts';
import type { ConsoleCtx } from './ctx.ts';
import { createSpaceForm } from './space-form.ts';
import { empty, loadInto, note } from './ui.ts';

export type SpacesData = {
  registry: Registry;
  spaces: (Space & { bound: string[] })[];
  workspaces: Workspace[];
  namespacesOf: (workspace: string) => string[];
};

const loadData = async (ctx: ConsoleCtx, registryId: string): Promise<SpacesData> => {
  const [registry, { items }, workspaces, namespaces] = await Promise.all([
    ctx.api.registry(registryId),
    ctx.api.spaces(registryId),
    ctx.api.workspaces().then((w) => w.items, () => []),
    ctx.api.namespaces().then((n) => n.items, () => []),
  ]);
  // A workspace-owned registry takes no bindings; a token that may not read them sees none.
  const bound = await Promise.all(items.map((s) => (registry.ownerWorkspaceId ? [] : ctx.api.bindings(registryId, s.name).then((b) => b.items.map((x) => x.workspaceId), () => []))));
  const namespacesOf = (w: string) => namespaces.filter((n) => n.workspaceId === w).map((n) => `${n.cluster}/${n.namespace}`);
  return { registry, spaces: items.map((s, i) => ({ ...s, bound: bound[i] ?? [] })), workspaces, namespacesOf };
};

/** Make public (widening: says who will see it) or make private (narrowing: blast radius, then confirm). */
const toggleVisibility = async (ctx: ConsoleCtx, d: SpacesData, s: Space) => {
  const ref: SpaceRef = { registryId: d.registry.id, space: s.name };
  const to = s.visibility === 'public' ? 'private' : 'public';
  const ok =
    to === 'private'
      ? await confirmNarrowing(ctx, ref, [{ action: 'make-private' }], `Make ${s.name} private?`, 'Make private')
      : await confirmChange({ title: `Make ${s.name} public?`, body: [h('p', { class: 'verdict audience' }, audienceOf(d, 'public'))], confirm: 'Make public' });
  if (ok) await ctx.api.setVisibility(d.registry.id, s.name, to);
  return ok;
};

const deleteSpace = async (ctx: ConsoleCtx, d: SpacesData, s: Space) => {
  const ok = await confirmNarrowing(ctx, { registryId: d.registry.id, space: s.name }, [{ action: 'delete' }], `Delete ${s.name}?`, 'Delete space');
  if (ok) await ctx.api.deleteSpace(d.registry.id, s.name);
  return ok;
};

const spaceRow = (ctx: ConsoleCtx, d: SpacesData, s: SpacesData['spaces'][number], edit: (s: SpacesData['spaces'][number]) => void, run: (work: () => Promise<boolean>) => () => void) => {
  const docker = d.registry.kind === 'docker-registry';
  return h(
    'tr',
    { 'data-space': s.name },
    h('th', { scope: 'row' }, s.name, s.visibilityUnconfirmed ? h('p', { class: 'hint' }, 'visibility not confirmed by Harbor yet') : null),
    h('td', {}, h('span', { class: `badge ${s.visibility}` }, s.visibility)),
    h('td', { class: 'bound' }, d.registry.ownerWorkspaceId ? `owned by ${d.registry.ownerWorkspaceId}` : s.bound.length ? s.bound.join(', ') : 'none'),
    h(
      'td',
      { class: 'actions' },
      docker ? null : h('button', { type: 'button', class: 'visibility', onclick: run(() => toggleVisibility(ctx, d, s)), 'aria-label': `Make ${s.name} ${s.visibility === 'public' ? 'private' : 'public'}` }, s.visibility === 'public' ? 'Make private' : 'Make public'),
      d.registry.ownerWorkspaceId ? null : h('button', { type: 'button', class: 'bindings', onclick: () => edit(s), 'aria-label': `Bindings of ${s.name}` }, 'Bindings…'),
      h('button', { type: 'button', class: 'delete danger', onclick: run(() => deleteSpace(ctx, d, s)), 'aria-label': `Delete ${s.name}` }, 'Delete'),
    ),
  );
};

const spacesTable = (ctx: ConsoleCtx, d: SpacesData, edit: (s: SpacesData['spaces'][number]) => void, run: (work: () => Promise<boolean>) => () => void) =>
  d.spaces.length
    ? h(
        'table',
        { class: 'list', id: 'spaces-table' },
        h('caption', { class: 'sr-only' }, `Spaces of ${d.registry.name}`),
        h('thead', {}, h('tr', {}, ...['Space', 'Visibility', 'Bound to', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...d.spaces.map((s) => spaceRow(ctx, d, s, edit, run))),
      )
    : empty('No space yet', 'Create one below, or push: a push into a Harbor project the platform does not know creates a private space.');

/** Spaces of one registry: create, visibility, bindings, delete; every narrowing change confirmed after its blast radius. */
export const spacesPage = (ctx: ConsoleCtx, into: HTMLElement, registryId: string) => {
  const body = h('div', { id: 'spaces-body' });
  const out = note('spaces-note');
  const editor = h('div', { id: 'bindings-region' });
  const run = (work: () => Promise<boolean>) => async () => {
    try {
      if (await work()) reload();
    } catch (error) {
      if (!handleAuth(error)) out.textContent = messageOf(error);
    }
  };
  const render = (d: SpacesData) => {
    const edit = (s: SpacesData['spaces'][number]) => fill(editor, bindingsEditor(ctx, d, s, () => (fill(editor), reload())));
    fill(body, h('p', { class: 'hint' }, `${d.registry.host} · ${d.registry.kind}`), spacesTable(ctx, d, edit, run), editor, createSpaceForm(ctx, d, reload));
  };
  const reload = () => void loadInto(body, 'spaces', () => loadData(ctx, registryId), render);
  fill(into, h('div', { class: 'row' }, h('button', { type: 'button', id: 'back-to-registries', onclick: () => ctx.go('registries') }, '← Registries'), h('h2', { id: 'console-title' }, 'Spaces')), out, body);
  reload();
};
