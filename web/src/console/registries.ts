import { messageOf, type BlastRadius, type Connected, type Registry } from '../api.ts';
import { fill, h } from '../dom.ts';
import { handleAuth } from '../session.ts';
import { ago } from '../tags.ts';
import { confirmChange } from './confirm.ts';
import { connectForm } from './connect.ts';
import type { ConsoleCtx } from './ctx.ts';
import { editForm, mayEdit } from './registry-edit.ts';
import { empty, loadInto, note, plural } from './ui.ts';
import { webhookPanel } from './webhook.ts';

const SYNC_WAIT_MS = 30_000;

const statusCell = (r: Registry) =>
  h('td', {}, h('span', { class: `health ${r.status ?? 'unknown'}` }, r.status ?? 'unknown'), r.statusMessage ? h('p', { class: 'hint' }, r.statusMessage) : null);

const webhookCell = (r: Registry) => {
  const c = r.webhookCoverage;
  if (r.kind !== 'harbor') return h('td', {}, 'notifications from config.yml');
  if (!c) return h('td', { class: 'hint' }, 'not checked yet (after the first sync)');
  return h(
    'td',
    {},
    `${c.covered} project${c.covered === 1 ? '' : 's'} covered`,
    c.uncovered.length ? h('p', { class: 'error' }, `uncovered: ${c.uncovered.map((u) => `${u.space} (${u.reason})`).join(', ')}`) : null,
  );
};

const pullCell = (r: Registry) => {
  if (r.pullAccess) return h('td', {}, r.pullAccess.status, r.pullAccess.message ? h('p', { class: 'hint' }, r.pullAccess.message) : null);
  if (r.kind === 'docker-registry') return h('td', {}, r.pullCredentialsSetAt ? 'pull credentials set' : 'no pull credentials');
  return h('td', { class: 'hint' }, 'not checked yet');
};

/** Removing a registry removes each of its spaces: the sum of their blast radii (the API has no registry-level one). */
const removalRadius = async (ctx: ConsoleCtx, r: Registry) => {
  const { items } = await ctx.api.spaces(r.id);
  const known: BlastRadius[] = [];
  // One at a time: a workspace admin's token may not preview (403), then the list of spaces is all there is.
  for (const s of items.slice(0, 20)) {
    const radius = await ctx.api.preview(r.id, s.name, { action: 'delete' }).catch(() => undefined);
    if (radius) known.push(radius);
  }
  const namespaces = [...new Set(known.flatMap((x) => x.namespaces.first))].sort();
  const images = known.reduce((n, x) => n + x.images.count, 0);
  return { spaces: items.map((s) => s.name), namespaces, images, everyone: known.some((x) => x.namespaces.alsoUnregistered), partial: known.length < items.length };
};

const removeRegistry = async (ctx: ConsoleCtx, r: Registry, out: HTMLElement) => {
  out.textContent = `Computing what removing ${r.name} takes away…`;
  const radius = await removalRadius(ctx, r);
  out.textContent = '';
  const ok = await confirmChange({
    title: `Remove ${r.name} (${r.host})?`,
    body: [
      h('p', { class: 'verdict' }, radius.spaces.length ? `Its ${plural(radius.spaces.length, 'space')} and ${plural(radius.images, 'image')} leave every selector.` : 'It holds no space: no selector changes.'),
      radius.spaces.length ? h('p', {}, 'Spaces: ', radius.spaces.join(', ')) : null,
      radius.namespaces.length ? h('p', { class: 'lose-namespaces' }, 'Namespaces that lose images: ', radius.namespaces.join(', '), radius.everyone ? ', and every namespace the service does not know' : '') : null,
      radius.partial ? h('p', { class: 'hint' }, 'Only part of the blast radius could be computed (too many spaces, or not allowed for your token).') : null,
    ],
    confirm: 'Remove registry',
    danger: true,
  });
  if (!ok) return false;
  await ctx.api.removeRegistry(r.id);
  return true;
};

/** Sync now: asks for a reconcile, then follows the registry until its last complete sync moves (or gives up). */
const syncNow = async (ctx: ConsoleCtx, r: Registry, out: HTMLElement) => {
  out.textContent = `Sync of ${r.name} requested…`;
  await ctx.api.sync(r.id);
  const started = Date.now();
  while (Date.now() - started < SYNC_WAIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = await ctx.api.registry(r.id);
    if (now.lastSuccessAt && now.lastSuccessAt !== r.lastSuccessAt) return (out.textContent = `${r.name} synced: status ${now.status ?? 'unknown'}.`), true;
    out.textContent = `Syncing ${r.name}… ${Math.round((Date.now() - started) / 1000)} s`;
  }
  out.textContent = `${r.name} has not finished a sync in ${SYNC_WAIT_MS / 1000} s; it goes on in the background (status ${r.status ?? 'unknown'}).`;
  return true;
};

const act = (out: HTMLElement, work: () => Promise<boolean>, then: () => void) => async () => {
  try {
    if (await work()) then();
  } catch (error) {
    if (!handleAuth(error)) out.textContent = messageOf(error);
  }
};

const row = (ctx: ConsoleCtx, r: Registry, out: HTMLElement, reload: () => void, edit: (r: Registry) => void) =>
  h(
    'tr',
    { 'data-registry': r.id },
    h('th', { scope: 'row' }, r.name, h('p', { class: 'hint' }, r.host, r.ownerWorkspaceId ? ` · owned by ${r.ownerWorkspaceId}` : '')),
    h('td', {}, r.kind === 'harbor' ? 'Harbor' : 'Docker Registry', h('p', { class: 'hint' }, r.mode ?? '')),
    statusCell(r),
    h('td', {}, r.lastSuccessAt ? h('time', { datetime: r.lastSuccessAt, title: r.lastSuccessAt }, ago(r.lastSuccessAt)) : 'never'),
    webhookCell(r),
    pullCell(r),
    h(
      'td',
      { class: 'actions' },
      h('button', { type: 'button', class: 'open-spaces', onclick: () => ctx.go('spaces', r.id), 'aria-label': `Spaces of ${r.name}` }, 'Spaces'),
      mayEdit(ctx, r) ? h('button', { type: 'button', class: 'edit', onclick: () => edit(r), 'aria-label': `Edit ${r.name}` }, 'Edit') : null,
      h('button', { type: 'button', class: 'sync', onclick: act(out, () => syncNow(ctx, r, out), reload), 'aria-label': `Sync ${r.name} now` }, 'Sync now'),
      h('button', { type: 'button', class: 'remove danger', onclick: act(out, () => removeRegistry(ctx, r, out), reload), 'aria-label': `Remove ${r.name}` }, 'Remove'),
    ),
  );

const table = (ctx: ConsoleCtx, items: Registry[], out: HTMLElement, reload: () => void, edit: (r: Registry) => void) =>
  h(
    'table',
    { class: 'list', id: 'registries-table' },
    h('caption', { class: 'sr-only' }, 'Connected registries'),
    h('thead', {}, h('tr', {}, ...['Registry', 'Kind', 'Status', 'Last sync', 'Webhooks', 'Pull access', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...items.map((r) => row(ctx, r, out, reload, edit))),
  );

/** Registries: the list with their health, edit, sync and remove, and the connect form. */
export const registriesPage = (ctx: ConsoleCtx, into: HTMLElement) => {
  const list = h('div', { id: 'registries-list', 'aria-live': 'polite' });
  const out = note('registries-note');
  out.tabIndex = -1;
  const editor = h('div', {});
  const webhook = h('div', {});
  const edit = (r: Registry) => {
    const saved = (now: Registry) => {
      fill(editor);
      out.textContent = `Saved ${now.name} (${now.host}): status ${now.status ?? 'unknown'}.`;
      out.focus();
      reload();
    };
    fill(editor, editForm(ctx, r, saved, () => (fill(editor), out.focus())));
    editor.querySelector('input')?.focus();
  };
  const reload = () =>
    void loadInto(list, 'registries', () => ctx.api.registries(), ({ items }) =>
      fill(list, items.length ? table(ctx, items, out, reload, edit) : empty('No registry yet', 'Connect a Harbor or a Docker Registry below: its projects (or first path segments) become spaces.')),
    );
  const connected = (r: Connected) => {
    const panel = webhookPanel(ctx, r, () => fill(webhook));
    fill(webhook, panel);
    panel.focus();
    reload();
  };
  fill(into, h('h2', { id: 'console-title' }, 'Registries'), out, list, editor, webhook, connectForm(ctx, connected));
  reload();
};
