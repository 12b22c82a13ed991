import { h } from '../dom.ts';

/** The selector's regions, built once and re-filled; behaviour is wired by `createSelector`. */
export const clusterSelect = h('select', { id: 'cluster' });
export const namespaceSelect = h('select', { id: 'namespace' });
export const workspaceNote = h('span', { class: 'hint', id: 'workspace-note' });
export const search = h('input', {
  id: 'q',
  type: 'search',
  placeholder: 'Search by the start of any word, e.g. nginx, pay or team api',
  autocomplete: 'off',
  spellcheck: 'false',
  'aria-controls': 'results',
  'aria-describedby': 'status search-keys',
});
export const hideCritical = h('input', { id: 'hide-critical', type: 'checkbox', 'aria-controls': 'results' });
export const status = h('p', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' });
export const results = h('div', { id: 'results', class: 'results', 'aria-busy': 'false' });
export const details = h('aside', { id: 'details', class: 'details', 'aria-label': 'Image details' });
export const prev = h('button', { type: 'button', id: 'prev' }, '← Previous');
export const next = h('button', { type: 'button', id: 'next' }, 'Next →');
export const pageLabel = h('span', { id: 'page-label' });
export const pager = h('nav', { id: 'pager', class: 'pager', 'aria-label': 'Result pages', hidden: true }, prev, pageLabel, next);

export const selector = h(
  'section',
  { id: 'selector', 'aria-label': 'Image selector', hidden: true },
  h('div', { class: 'target' }, h('label', { for: 'cluster' }, 'Cluster', clusterSelect), h('label', { for: 'namespace' }, 'Namespace', namespaceSelect), workspaceNote),
  h(
    'div',
    { class: 'search' },
    h('label', { for: 'q' }, 'Search images'),
    search,
    h('p', { id: 'search-keys', class: 'hint' }, 'Words match from their start (pay finds payments, not repay). Press / to search, ↓ ↑ to move through results, Enter to open an image, Esc to go back.'),
    h('label', { class: 'check', for: 'hide-critical' }, hideCritical, ' Hide images whose latest tag has critical findings'),
  ),
  status,
  h('div', { class: 'columns' }, h('div', {}, results, pager), details),
);

export const imageButtons = () => [...results.querySelectorAll<HTMLButtonElement>('button.image')];

/** Moves the roving tab stop to result `i` (clamped) and focuses it. */
export const focusResult = (i: number) => {
  const buttons = imageButtons();
  const target = buttons[Math.max(0, Math.min(i, buttons.length - 1))];
  if (!target) return;
  for (const b of buttons) b.tabIndex = b === target ? 0 : -1;
  target.focus();
  target.scrollIntoView({ block: 'nearest' });
};
