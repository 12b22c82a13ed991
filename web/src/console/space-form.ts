import { ApiError, messageOf } from '../api.ts';
import { h } from '../dom.ts';
import { handleAuth } from '../session.ts';
import { audienceOf } from './changes.ts';
import type { ConsoleCtx } from './ctx.ts';
import { space as spaceName } from './space-name-field.ts';
import type { SpacesData } from './spaces.ts';
import { note } from './ui.ts';

const visibilityChoice = (d: SpacesData, said: HTMLElement) => {
  const docker = d.registry.kind === 'docker-registry';
  const radio = (value: 'public' | 'private', label: string) =>
    h('label', { class: 'check' }, h('input', { type: 'radio', name: 'new-space-visibility', value, checked: value === (docker ? 'public' : 'private'), disabled: docker && value === 'private', onchange: () => say() }), ` ${label}`);
  const say = () => {
    const chosen = fieldset.querySelector<HTMLInputElement>('input:checked')?.value === 'public' ? 'public' : 'private';
    said.textContent = d.registry.ownerWorkspaceId
      ? `Owned by workspace ${d.registry.ownerWorkspaceId}: only its namespaces will be offered its images.`
      : chosen === 'public'
        ? audienceOf(d, 'public')
        : 'Nobody will see it until you bind it to a workspace.';
  };
  const fieldset = h(
    'fieldset',
    { class: 'visibility-choice', 'aria-describedby': 'new-space-audience' },
    h('legend', {}, 'Visibility'),
    radio('private', 'Private: offered to the workspaces it is bound to'),
    radio('public', 'Public: offered to every namespace'),
    docker ? h('p', { class: 'hint' }, 'Docker Registry spaces are always public (it has no per-repository access).') : null,
  );
  say();
  return { fieldset, value: () => (fieldset.querySelector<HTMLInputElement>('input:checked')?.value === 'public' ? ('public' as const) : ('private' as const)) };
};

/** Create a space: the name checked as Harbor does while typing, the visibility saying who will see it. */
export const createSpaceForm = (ctx: ConsoleCtx, d: SpacesData, created: () => void) => {
  const name = spaceName();
  const said = h('p', { class: 'hint audience', id: 'new-space-audience', 'aria-live': 'polite' });
  const visibility = visibilityChoice(d, said);
  const out = note('new-space-note');
  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (!name.check()) return name.input.focus();
    out.textContent = d.registry.kind === 'harbor' ? 'Creating the project in Harbor…' : 'Creating…';
    try {
      await ctx.api.createSpace(d.registry.id, name.input.value, visibility.value());
      out.textContent = `Created ${name.input.value}.`;
      created();
    } catch (error) {
      if (handleAuth(error)) return;
      const issue = error instanceof ApiError ? error.issues.find((i) => i.path === 'name') : undefined;
      if (issue) name.setError(issue.message);
      out.textContent = issue ? '' : messageOf(error);
    }
  };
  return h(
    'form',
    { class: 'create-space', id: 'create-space', 'aria-labelledby': 'create-space-title', novalidate: true, onsubmit: (e: SubmitEvent) => void submit(e) },
    h('h3', { id: 'create-space-title' }, `Create a space in ${d.registry.name}`),
    name.wrap,
    visibility.fieldset,
    said,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'create-space-submit' }, 'Create space'), out),
  );
};
