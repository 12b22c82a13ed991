import { ApiError, messageOf } from '../api.ts';
import { fill, h } from '../dom.ts';
import { handleAuth } from '../session.ts';

/** The states every console region goes through: loading, empty, error with retry, forbidden. */
export const loading = (what: string) => h('p', { class: 'hint loading', role: 'status' }, `Loading ${what}…`);

export const empty = (title: string, text: string) => h('div', { class: 'empty' }, h('h3', {}, title), h('p', {}, text));

/** A failed call: 403 is "not yours" (no retry helps), anything else offers Retry. */
export const failure = (what: string, error: unknown, retry: () => void) => {
  if (error instanceof ApiError && error.status === 403)
    return h('div', { class: 'empty forbidden', role: 'alert' }, h('h3', {}, 'Not allowed'), h('p', {}, `Your token does not let you see ${what}: ${error.message}`));
  return h(
    'div',
    { class: 'empty error', role: 'alert' },
    h('h3', {}, `Could not load ${what}`),
    h('p', {}, messageOf(error)),
    h('button', { type: 'button', class: 'retry', onclick: retry }, 'Retry'),
  );
};

/** Fills `into` with loading, then `render(answer)`, or the failure (a refused token signs out instead). */
export const loadInto = async <T>(into: HTMLElement, what: string, fetch: () => Promise<T>, render: (answer: T) => void) => {
  fill(into, loading(what));
  into.setAttribute('aria-busy', 'true');
  try {
    const answer = await fetch();
    render(answer);
  } catch (error) {
    if (!handleAuth(error)) fill(into, failure(what, error, () => void loadInto(into, what, fetch, render)));
  } finally {
    into.setAttribute('aria-busy', 'false');
  }
};

/** A labelled control with a hint and an error line next to it (`aria-describedby` names both). */
export const field = (id: string, label: string, control: HTMLElement, hint?: string) => {
  const error = h('p', { class: 'error field-error', id: `${id}-error`, 'aria-live': 'polite' });
  control.id = id;
  control.setAttribute('aria-describedby', [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null, error);
  const setError = (message: string) => {
    error.textContent = message;
    if (message) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  };
  return { wrap, setError };
};

type Marked = { wrap: HTMLElement; setError: (message: string) => void };

/**
 * A failed submit: each of a 400's issues next to its field (`fieldOf` maps the API's paths, `credentials.username`,
 * to the form's fields), focus on the first; `formError` gets `placed` when every issue found its field, else the
 * issues no field shows, or any other failure.
 */
export const showIssues = <K extends string>(fields: Record<K, Marked>, fieldOf: Partial<Record<string, K>>, error: unknown, formError: HTMLElement, placed = 'Fix the fields marked below.') => {
  const issues = error instanceof ApiError ? error.issues : [];
  const unplaced = issues.filter((i) => {
    const key = fieldOf[i.path];
    if (key) fields[key].setError(i.message);
    return !key;
  });
  formError.textContent = issues.length && !unplaced.length ? placed : unplaced.length ? unplaced.map((i) => `${i.path}: ${i.message}`).join('; ') : messageOf(error);
  const first = issues.map((i) => fieldOf[i.path]).find((k) => k !== undefined);
  if (first) fields[first].wrap.querySelector<HTMLElement>('input, select')?.focus();
};

/** A button that copies `text()`, saying so in `out` (or how to copy by hand when the clipboard is refused). */
export const copyButton = (label: string, text: () => string, out: HTMLElement, id?: string) =>
  h(
    'button',
    {
      type: 'button',
      id,
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(text());
          out.textContent = `Copied: ${label.replace(/^Copy /, '')}`;
        } catch {
          out.textContent = 'The clipboard is not available here: select the text and press Ctrl+C (⌘C).';
        }
      },
    },
    label,
  );

/** A message line in a form: what happened, for screen readers too. */
export const note = (id: string) => h('p', { class: 'note', id, role: 'status', 'aria-live': 'polite' });

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
