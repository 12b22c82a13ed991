import { messageOf, type BlastRadius, type PreviewAction, type Workspace } from '../api.ts';
import { blastRadiusLists, previewSentence } from '../admin.ts';
import { h } from '../dom.ts';
import { confirmChange } from './confirm.ts';
import type { ConsoleCtx } from './ctx.ts';

export type SpaceRef = { registryId: string; space: string };

const radiusBody = (r: BlastRadius, workspace = '') => [
  h('p', { class: 'verdict' }, previewSentence(r, workspace)),
  ...blastRadiusLists(r),
  h('p', { class: 'hint' }, `As of ${r.asOf}. Nothing has changed yet.`),
];

/**
 * A narrowing change (make private, unbind, delete): its blast radius first (`POST …/preview`), then the admin
 * confirms, or nothing happens. A preview that fails stops the change: it is never applied blind.
 */
export const confirmNarrowing = async (ctx: ConsoleCtx, s: SpaceRef, actions: PreviewAction[], title: string, confirm: string) => {
  const body = [];
  for (const action of actions) {
    const r = await ctx.api.preview(s.registryId, s.space, { ...action });
    body.push(...radiusBody(r, action.action === 'unbind' ? action.workspaceId : ''));
  }
  return confirmChange({ title, body, confirm, danger: true });
};

/** Who a widening change offers the space to, in words. */
export const audienceOf = (ctx: { namespacesOf: (w: string) => string[] }, to: 'public' | Workspace[]) => {
  if (to === 'public') return 'Every namespace, registered or not, will be offered its images.';
  return to
    .map((w) => {
      const ns = ctx.namespacesOf(w.id);
      return `Workspace ${w.id} (${ns.length ? ns.join(', ') : 'no namespace bound yet'}) will be offered its images.`;
    })
    .join(' ');
};

/** Runs `steps` one after the other, saying how far it got in `out`; stops at the first failure. */
export const withProgress = async (out: HTMLElement, what: string, steps: (() => Promise<unknown>)[]) => {
  for (const [i, step] of steps.entries()) {
    out.textContent = `${what}: ${i + 1} of ${steps.length}…`;
    try {
      await step();
    } catch (error) {
      out.textContent = `${what}: step ${i + 1} of ${steps.length} failed: ${messageOf(error)}`;
      return false;
    }
  }
  out.textContent = `${what}: done.`;
  return true;
};
