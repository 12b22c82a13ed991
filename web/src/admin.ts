import { messageOf, type Api, type BlastRadius, type Explanation, type NamespaceRef, type PreviewAction } from './api.ts';
import { fill, h } from './dom.ts';

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

const previewSentence = (r: BlastRadius, workspace: string) => {
  const what = r.action === 'make-private' ? `Making ${r.space} private` : r.action === 'unbind' ? `Unbinding ${r.space} from ${workspace}` : `Deleting ${r.space}`;
  if (r.images.count === 0) return `${what} removes nothing: the space offers no image right now.`;
  if (r.namespaces.count === 0 && !r.namespaces.alsoUnregistered)
    return `${what} removes no image from any namespace${r.after?.visibility === 'public' ? ': the space stays public' : ''}.`;
  const images = `${r.images.count} image${r.images.count === 1 ? '' : 's'}`;
  const namespaces = `${r.namespaces.count} registered namespace${r.namespaces.count === 1 ? '' : 's'}`;
  return `${what} would remove ${images} from ${namespaces}${r.namespaces.alsoUnregistered ? ' and from every namespace the service does not know' : ''}.`;
};

const listOf = (title: string, names: string[], count: number) =>
  h('div', {}, h('h4', {}, title), h('ul', { class: 'names' }, ...names.map((n) => h('li', {}, h('code', {}, n)))), count > names.length ? h('p', { class: 'hint' }, `… and ${count - names.length} more`) : null);

export type AdminPanel = { explain: (image: string) => Promise<void>; setImage: (image: string) => void };

/**
 * The platform admin's tools, in `panel`: explain (is an image offered to the namespace chosen above, and
 * why) and the blast radius of a change to a space (a dry run).
 */
export const createAdminPanel = (
  panel: HTMLElement,
  ctx: { api: Api; namespace: () => NamespaceRef | undefined; handleAuth: (error: unknown) => boolean },
): AdminPanel => {
  const { api, handleAuth } = ctx;
  const input = h('input', { id: 'explain-image', type: 'text', placeholder: 'host/space/repository[:tag]', spellcheck: 'false', required: true });
  const explainOut = h('div', { id: 'explain-result', 'aria-live': 'polite' });
  const previewOut = h('div', { id: 'preview-result', 'aria-live': 'polite' });
  const failed = (out: HTMLElement) => (error: unknown) => {
    if (!handleAuth(error)) fill(out, h('p', { class: 'error', role: 'alert' }, messageOf(error)));
  };

  const explain = async (image: string) => {
    const ns = ctx.namespace();
    if (!ns || !image.trim()) return;
    input.value = image;
    fill(explainOut, h('p', { class: 'hint' }, 'Explaining…'));
    panel.scrollIntoView({ block: 'nearest' });
    await api.explain(ns, image.trim()).then((answer) => renderExplanation(explainOut, answer), failed(explainOut));
  };
  const registry = h('select', { id: 'preview-registry', onchange: () => void loadSpaces() });
  const space = h('select', { id: 'preview-space', onchange: () => void loadBindings() });
  const action = h(
    'select',
    { id: 'preview-action', onchange: () => void loadBindings() },
    h('option', { value: 'make-private' }, 'make it private'),
    h('option', { value: 'unbind' }, 'unbind it from a workspace'),
    h('option', { value: 'delete' }, 'delete it'),
  );
  const workspace = h('select', { id: 'preview-workspace' });
  const workspaceLabel = h('label', { hidden: true }, 'Workspace ', workspace);

  const loadSpaces = async () => {
    fill(space);
    if (!registry.value) return;
    try {
      const { items } = await api.spaces(registry.value);
      fill(space, ...items.map((s) => h('option', { value: s.name }, `${s.name} (${s.visibility})`)));
    } catch (error) {
      failed(previewOut)(error);
    }
    await loadBindings();
  };
  const loadBindings = async () => {
    workspaceLabel.hidden = action.value !== 'unbind';
    if (action.value !== 'unbind' || !registry.value || !space.value) return;
    try {
      const { items } = await api.bindings(registry.value, space.value);
      fill(workspace, ...items.map((b) => h('option', { value: b.workspaceId }, b.workspaceId)));
    } catch (error) {
      failed(previewOut)(error);
    }
  };
  const preview = async () => {
    if (!registry.value || !space.value) return;
    const choice: PreviewAction =
      action.value === 'unbind' ? { action: 'unbind', workspaceId: workspace.value } : { action: action.value === 'delete' ? 'delete' : 'make-private' };
    if (choice.action === 'unbind' && !choice.workspaceId) return fill(previewOut, h('p', { class: 'hint' }, `${space.value} is bound to no workspace.`));
    fill(previewOut, h('p', { class: 'hint' }, 'Computing…'));
    try {
      const r = await api.preview(registry.value, space.value, choice);
      fill(
        previewOut,
        h('p', { class: 'verdict' }, previewSentence(r, workspace.value)),
        r.namespaces.count ? listOf('Namespaces that would lose them', r.namespaces.first, r.namespaces.count) : null,
        r.images.count && (r.namespaces.count || r.namespaces.alsoUnregistered) ? listOf('Images', r.images.first, r.images.count) : null,
        r.pullAccess?.robots.length
          ? listOf('Harbor robots that would lose the project', r.pullAccess.robots.map((x) => `${x.robot} (${x.workspaceId})`), r.pullAccess.robots.length)
          : null,
        h('p', { class: 'hint' }, `Dry run: nothing was changed · as of ${r.asOf}`),
      );
    } catch (error) {
      failed(previewOut)(error);
    }
  };

  fill(
    panel,
    h('h2', { id: 'admin-title' }, 'Platform admin'),
    h(
      'div',
      { class: 'admin-grid' },
      h(
        'section',
        { 'aria-labelledby': 'explain-title' },
        h('h3', { id: 'explain-title' }, 'Explain: is an image offered to this namespace, and why?'),
        h(
          'form',
          { onsubmit: (e: SubmitEvent) => (e.preventDefault(), void explain(input.value)) },
          h('label', { for: 'explain-image' }, 'Image (for the namespace chosen above)'),
          h('div', { class: 'row' }, input, h('button', { type: 'submit', id: 'explain' }, 'Explain')),
        ),
        explainOut,
      ),
      h(
        'section',
        { 'aria-labelledby': 'preview-title' },
        h('h3', { id: 'preview-title' }, 'Blast radius: what would a change to a space remove?'),
        h(
          'form',
          { class: 'preview', onsubmit: (e: SubmitEvent) => (e.preventDefault(), void preview()) },
          h('label', {}, 'Registry ', registry),
          h('label', {}, 'Space ', space),
          h('label', {}, 'Change ', action),
          workspaceLabel,
          h('button', { type: 'submit', id: 'preview' }, 'Preview'),
        ),
        previewOut,
      ),
    ),
  );
  panel.hidden = false;
  void (async () => {
    try {
      const { items } = await api.registries();
      fill(registry, ...items.map((r) => h('option', { value: r.id }, `${r.name} (${r.host})`)));
      await loadSpaces();
    } catch (error) {
      failed(previewOut)(error);
    }
  })();
  return { explain, setImage: (image) => void (input.value = image) };
};

