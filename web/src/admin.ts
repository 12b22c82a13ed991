import { messageOf, type Api, type BlastRadius, type Explanation, type NamespaceRef, type PreviewAction } from './api.ts';
import { fill, h } from './dom.ts';

type Ctx = { api: Api; namespace: () => NamespaceRef | undefined; handleAuth: (error: unknown) => boolean };

const renderExplanation = (out: HTMLElement, answer: Explanation) =>
  fill(
    out,
    h(
      'p',
      { class: answer.visible ? 'verdict yes' : 'verdict no' },
      answer.visible ? `Offered to ${answer.namespace}` : `Not offered to ${answer.namespace}${answer.missingLink ? `: ${answer.missingLink.statement}` : ''}`,
    ),
    h(
      'ol',
      { class: 'facts' },
      ...answer.facts.map((f) => h('li', { class: f.holds ? 'holds' : 'missing' }, h('span', { class: 'mark', 'aria-hidden': 'true' }, f.holds ? '✓' : '✗'), h('span', { class: 'sr-only' }, f.holds ? 'holds: ' : 'missing: '), f.statement)),
    ),
    answer.pullAccess
      ? h('p', { class: answer.pullAccess.holds ? 'pull holds' : 'pull missing' }, `Pull access: ${answer.pullAccess.statement}`)
      : null,
    h(
      'p',
      { class: 'hint' },
      `Index as of ${answer.asOf}`,
      answer.pendingChanges.length ? ` · ${answer.pendingChanges.length} change(s) to this image wait for the indexer` : ' · no change to this image waits for the indexer',
    ),
  );

/** One sentence for a blast radius: what the change removes, from how many namespaces. */
export const previewSentence = (r: BlastRadius, workspace: string) => {
  const what = r.action === 'make-private' ? `Making ${r.space} private` : r.action === 'unbind' ? `Unbinding ${r.space} from ${workspace}` : `Deleting ${r.space}`;
  if (r.images.count === 0) return `${what} removes nothing: the space offers no image right now.`;
  if (r.namespaces.count === 0 && !r.namespaces.alsoUnregistered)
    return `${what} removes no image from any namespace${r.after?.visibility === 'public' ? ': the space stays public' : ''}.`;
  const images = `${r.images.count} image${r.images.count === 1 ? '' : 's'}`;
  const namespaces = `${r.namespaces.count} registered namespace${r.namespaces.count === 1 ? '' : 's'}`;
  return `${what} would remove ${images} from ${namespaces}${r.namespaces.alsoUnregistered ? ' and from every namespace the service does not know' : ''}.`;
};

export const listOf = (title: string, names: string[], count: number, cls = '') =>
  h('div', { class: cls }, h('h4', {}, title), h('ul', { class: 'names' }, ...names.map((n) => h('li', {}, h('code', {}, n)))), count > names.length ? h('p', { class: 'hint' }, `… and ${count - names.length} more`) : null);

/** The lists under a blast radius's sentence: who loses what, and which Harbor robots lose the project. */
export const blastRadiusLists = (r: BlastRadius) => [
  r.namespaces.count ? listOf('Namespaces that would lose them', r.namespaces.first, r.namespaces.count, 'lose-namespaces') : null,
  r.images.count && (r.namespaces.count || r.namespaces.alsoUnregistered) ? listOf('Images', r.images.first, r.images.count, 'lose-images') : null,
  r.pullAccess?.robots.length ? listOf('Harbor robots that would lose the project', r.pullAccess.robots.map((x) => `${x.robot} (${x.workspaceId})`), r.pullAccess.robots.length) : null,
];

export type AdminPanel = { explain: (image: string) => Promise<void>; setImage: (image: string) => void };

const failedInto = (ctx: Ctx, out: HTMLElement) => (error: unknown) => {
  if (!ctx.handleAuth(error)) fill(out, h('p', { class: 'error', role: 'alert' }, messageOf(error)));
};

/** Explain: is an image offered to the namespace chosen in the selector, and why (link by link). */
const explainSection = (ctx: Ctx, panel: HTMLElement) => {
  const input = h('input', { id: 'explain-image', type: 'text', placeholder: 'host/space/repository[:tag]', spellcheck: 'false', required: true });
  const out = h('div', { id: 'explain-result', 'aria-live': 'polite' });
  const explain = async (image: string) => {
    const ns = ctx.namespace();
    if (!ns || !image.trim()) return;
    input.value = image;
    fill(out, h('p', { class: 'hint' }, 'Explaining…'));
    panel.scrollIntoView({ block: 'nearest' });
    await ctx.api.explain(ns, image.trim()).then((answer) => renderExplanation(out, answer), failedInto(ctx, out));
  };
  const section = h(
    'section',
    { 'aria-labelledby': 'explain-title' },
    h('h3', { id: 'explain-title' }, 'Explain: is an image offered to this namespace, and why?'),
    h(
      'form',
      { onsubmit: (e: SubmitEvent) => (e.preventDefault(), void explain(input.value)) },
      h('label', { for: 'explain-image' }, 'Image (for the namespace chosen above)'),
      h('div', { class: 'row' }, input, h('button', { type: 'submit', id: 'explain' }, 'Explain')),
    ),
    out,
  );
  return { section, explain, setImage: (image: string) => void (input.value = image) };
};

/** The preview form's selects; each reloads what depends on it. */
const previewControls = (ctx: Ctx, out: HTMLElement) => {
  const failed = failedInto(ctx, out);
  const c = {
    registry: h('select', { id: 'preview-registry', onchange: () => void loadSpaces() }),
    space: h('select', { id: 'preview-space', onchange: () => void loadBindings() }),
    action: h(
      'select',
      { id: 'preview-action', onchange: () => void loadBindings() },
      h('option', { value: 'make-private' }, 'make it private'),
      h('option', { value: 'unbind' }, 'unbind it from a workspace'),
      h('option', { value: 'delete' }, 'delete it'),
    ),
    workspace: h('select', { id: 'preview-workspace' }),
    workspaceLabel: h('label', { hidden: true }, 'Workspace '),
  };
  c.workspaceLabel.append(c.workspace);
  const loadSpaces = async () => {
    fill(c.space);
    if (!c.registry.value) return;
    await ctx.api.spaces(c.registry.value).then(({ items }) => fill(c.space, ...items.map((s) => h('option', { value: s.name }, `${s.name} (${s.visibility})`))), failed);
    await loadBindings();
  };
  const loadBindings = async () => {
    c.workspaceLabel.hidden = c.action.value !== 'unbind';
    if (c.action.value !== 'unbind' || !c.registry.value || !c.space.value) return;
    await ctx.api.bindings(c.registry.value, c.space.value).then(({ items }) => fill(c.workspace, ...items.map((b) => h('option', { value: b.workspaceId }, b.workspaceId))), failed);
  };
  const loadRegistries = () =>
    ctx.api.registries().then(({ items }) => (fill(c.registry, ...items.map((r) => h('option', { value: r.id }, `${r.name} (${r.host})`))), loadSpaces()), failed);
  return { ...c, loadRegistries };
};

/** Blast radius: what a change to a space would remove (a dry run). */
const previewSection = (ctx: Ctx) => {
  const out = h('div', { id: 'preview-result', 'aria-live': 'polite' });
  const c = previewControls(ctx, out);
  const preview = async () => {
    const [registry, space, workspace] = [c.registry.value, c.space.value, c.workspace.value];
    if (!registry || !space) return;
    const choice: PreviewAction = c.action.value === 'unbind' ? { action: 'unbind', workspaceId: workspace } : { action: c.action.value === 'delete' ? 'delete' : 'make-private' };
    if (choice.action === 'unbind' && !choice.workspaceId) return fill(out, h('p', { class: 'hint' }, `${space} is bound to no workspace.`));
    fill(out, h('p', { class: 'hint' }, 'Computing…'));
    await ctx.api.preview(registry, space, choice).then(
      (r) => fill(out, h('p', { class: 'verdict' }, previewSentence(r, workspace)), ...blastRadiusLists(r), h('p', { class: 'hint' }, `Dry run: nothing was changed · as of ${r.asOf}`)),
      failedInto(ctx, out),
    );
  };
  const section = h(
    'section',
    { 'aria-labelledby': 'preview-title' },
    h('h3', { id: 'preview-title' }, 'Blast radius: what would a change to a space remove?'),
    h(
      'form',
      { class: 'preview', onsubmit: (e: SubmitEvent) => (e.preventDefault(), void preview()) },
      h('label', {}, 'Registry ', c.registry),
      h('label', {}, 'Space ', c.space),
      h('label', {}, 'Change ', c.action),
      c.workspaceLabel,
      h('button', { type: 'submit', id: 'preview' }, 'Preview'),
    ),
    out,
  );
  return { section, load: c.loadRegistries };
};

/**
 * The platform admin's tools, in `panel`: explain (is an image offered to the namespace chosen above, and
 * why) and the blast radius of a change to a space (a dry run).
 */
export const createAdminPanel = (panel: HTMLElement, ctx: Ctx): AdminPanel => {
  const explain = explainSection(ctx, panel);
  const preview = previewSection(ctx);
  fill(panel, h('h2', { id: 'admin-title' }, 'Platform admin'), h('div', { class: 'admin-grid' }, explain.section, preview.section));
  panel.hidden = false;
  void preview.load();
  return { explain: explain.explain, setImage: explain.setImage };
};
