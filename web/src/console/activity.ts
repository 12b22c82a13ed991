import type { AuditEntry, ServiceStatus } from '../api.ts';
import { append, fill, h } from '../dom.ts';
import { ago } from '../tags.ts';
import type { ConsoleCtx } from './ctx.ts';
import { empty, loadInto, plural } from './ui.ts';

const targetOf = (t: Record<string, string>) =>
  [t.registryId, t.space, t.repository && `${t.repository}${t.tag ? `:${t.tag}` : ''}`, t.workspaceId && `workspace ${t.workspaceId}`, t.cluster && `${t.cluster}/${t.namespace ?? ''}`].filter(Boolean).join(' · ');

const entryRow = (e: AuditEntry) =>
  h(
    'tr',
    {},
    h('td', {}, h('time', { datetime: e.at, title: e.at }, ago(e.at))),
    h('td', {}, e.actor, e.operator ? h('p', { class: 'hint' }, `as ${e.operator}`) : null),
    h('th', { scope: 'row' }, e.action),
    h('td', {}, targetOf(e.target)),
    h('td', {}, e.change ? `${e.change.field}: ${e.change.before ?? '—'} → ${e.change.after ?? 'none'}` : ''),
  );

/** The audit trail, newest first, 25 at a time; "Older entries" follows the cursor. */
const auditSection = (ctx: ConsoleCtx) => {
  const into = h('div', { id: 'audit', 'aria-live': 'polite' });
  const show = (page: { items: AuditEntry[]; nextCursor: string | null }, body?: HTMLElement) => {
    if (!body && !page.items.length) return fill(into, empty('Nothing recorded yet', 'Every change (registries, spaces, bindings, namespaces, pushes) is recorded here with who made it.'));
    const rows = body ?? h('tbody', {});
    append(rows, ...page.items.map(entryRow));
    const more = page.nextCursor ? h('button', { type: 'button', id: 'audit-older', onclick: () => void ctx.api.audit(page.nextCursor ?? undefined).then((p) => (more?.remove(), show(p, rows))) }, 'Older entries') : null;
    if (!body) fill(into, h('table', { class: 'list', id: 'audit-table' }, h('caption', { class: 'sr-only' }, 'Audit trail'), h('thead', {}, h('tr', {}, ...['When', 'Who', 'What', 'Target', 'Change'].map((t) => h('th', { scope: 'col' }, t)))), rows));
    if (more) into.append(more);
  };
  const load = () => void loadInto(into, 'the audit trail', () => ctx.api.audit(), (p) => show(p));
  return { section: h('section', { 'aria-labelledby': 'audit-title' }, h('div', { class: 'row' }, h('h3', { id: 'audit-title' }, 'Audit trail'), h('button', { type: 'button', id: 'audit-refresh', onclick: load }, 'Refresh')), into), load };
};

const renderStatus = (into: HTMLElement, s: ServiceStatus) =>
  fill(
    into,
    h(
      'dl',
      { class: 'facts-list' },
      h('dt', {}, 'Index lag'),
      h('dd', { id: 'index-lag' }, s.index.lagSeconds ? `${s.index.lagSeconds.toFixed(1)} s (oldest waiting: ${s.index.oldestPending?.detailType ?? '?'})` : 'none: every change is applied'),
      h('dt', {}, 'Waiting changes'),
      h('dd', {}, `${s.index.pending.count}${s.index.pending.atLeast ? '+' : ''}`),
      h('dt', {}, 'Last applied'),
      h('dd', {}, s.index.lastAppliedAt ? ago(s.index.lastAppliedAt) : 'never'),
      h('dt', {}, 'Last full repair'),
      h('dd', {}, s.lastRepair ? `${ago(s.lastRepair.at)}: ${plural(s.lastRepair.drift, 'row')} fixed, ${s.lastRepair.failed} failed` : 'none yet'),
    ),
    h('ul', { class: 'names' }, ...s.registries.map((r) => h('li', {}, `${r.name}: ${r.status}, ${r.syncAgeSeconds === undefined ? 'never synced' : `synced ${Math.round(r.syncAgeSeconds)} s ago`}`))),
  );

/** Activity: how fresh the index is (`GET /status`) and who changed what (`GET /audit`). */
export const activityPage = (ctx: ConsoleCtx, into: HTMLElement) => {
  const status = h('div', { id: 'index-status' });
  const audit = auditSection(ctx);
  const loadStatus = () => void loadInto(status, 'the index status', () => ctx.api.status(), (s) => renderStatus(status, s));
  fill(
    into,
    h('h2', { id: 'console-title' }, 'Activity'),
    h('section', { 'aria-labelledby': 'status-title' }, h('div', { class: 'row' }, h('h3', { id: 'status-title' }, 'Index freshness'), h('button', { type: 'button', id: 'status-refresh', onclick: loadStatus }, 'Refresh')), status),
    audit.section,
  );
  loadStatus();
  audit.load();
};
