import type { Workspace } from '../api.ts';
import { h } from '../dom.ts';
import { audienceOf, confirmNarrowing, withProgress } from './changes.ts';
import type { ConsoleCtx } from './ctx.ts';
import type { SpacesData } from './spaces.ts';
import { empty, note } from './ui.ts';

type Space = SpacesData['spaces'][number];

const choice = (d: SpacesData, s: Space, w: Workspace, changed: () => void) => {
  const ns = d.namespacesOf(w.id);
  return h(
    'label',
    { class: 'check workspace-choice' },
    h('input', { type: 'checkbox', name: 'bound', value: w.id, checked: s.bound.includes(w.id), onchange: changed, 'aria-describedby': `ns-of-${w.id}` }),
    ` ${w.id}${w.displayName ? ` (${w.displayName})` : ''}`,
    h('span', { class: 'hint', id: `ns-of-${w.id}` }, ns.length ? ` · ${ns.join(', ')}` : ' · no namespace yet'),
  );
};

const diff = (s: Space, fieldset: HTMLElement) => {
  const now = [...fieldset.querySelectorAll<HTMLInputElement>('input[name="bound"]')].filter((i) => i.checked).map((i) => i.value);
  return { added: now.filter((w) => !s.bound.includes(w)), removed: s.bound.filter((w) => !now.includes(w)) };
};

/** Applies a bindings change: unbinding (narrowing) only after its blast radius was confirmed; binding says who gains. */
const save = async (ctx: ConsoleCtx, d: SpacesData, s: Space, fieldset: HTMLElement, out: HTMLElement) => {
  const { added, removed } = diff(s, fieldset);
  if (!added.length && !removed.length) return (out.textContent = 'Nothing to change.'), false;
  const ref = { registryId: d.registry.id, space: s.name };
  if (removed.length) {
    const ok = await confirmNarrowing(ctx, ref, removed.map((workspaceId) => ({ action: 'unbind' as const, workspaceId })), `Unbind ${s.name} from ${removed.join(', ')}?`, 'Unbind');
    if (!ok) return (out.textContent = 'Nothing was changed.'), false;
  }
  const steps = [...added.map((w) => () => ctx.api.bind(d.registry.id, s.name, w)), ...removed.map((w) => () => ctx.api.unbind(d.registry.id, s.name, w))];
  return withProgress(out, `Saving the bindings of ${s.name}`, steps);
};

/** The bindings of one space: a checkbox per workspace (with its namespaces), a live summary, Save. */
export const bindingsEditor = (ctx: ConsoleCtx, d: SpacesData, s: Space, done: () => void) => {
  const out = note('bindings-progress');
  const summary = h('p', { class: 'audience', id: 'bindings-summary', 'aria-live': 'polite' });
  const changed = () => {
    const { added, removed } = diff(s, fieldset);
    const gain = d.workspaces.filter((w) => added.includes(w.id));
    summary.textContent = [gain.length ? audienceOf(d, gain) : '', removed.length ? `Unbinding ${removed.join(', ')} shows its blast radius before anything changes.` : ''].filter(Boolean).join(' ');
  };
  const fieldset = h('fieldset', { class: 'bindings', id: 'bindings-editor' }, h('legend', {}, `Workspaces bound to ${s.name}`), ...d.workspaces.map((w) => choice(d, s, w, changed)));
  if (!d.workspaces.length) return empty('No workspace yet', 'Create workspaces on the Workspaces page, then bind them here.');
  const form = h(
    'form',
    { class: 'panel bindings-form', 'aria-labelledby': 'bindings-title', onsubmit: (e: SubmitEvent) => (e.preventDefault(), void save(ctx, d, s, fieldset, out).then((ok) => ok && done())) },
    h('h3', { id: 'bindings-title' }, `Bindings of ${s.name}`),
    s.visibility === 'public' ? h('p', { class: 'hint' }, `${s.name} is public: every namespace sees it already; bindings matter once it is private.`) : null,
    fieldset,
    summary,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'bindings-save' }, 'Save bindings'), h('button', { type: 'button', onclick: done }, 'Close'), out),
  );
  queueMicrotask(() => fieldset.querySelector<HTMLInputElement>('input')?.focus());
  return form;
};
