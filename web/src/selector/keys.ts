import { focusResult, imageButtons, search, selector } from './elements.ts';
import { onSearchInput, searchNow } from './search.ts';

/** In the search: ↓ to the results, Esc clears, Enter searches at once. */
export const onSearchKey = (e: KeyboardEvent) => {
  if (e.key === 'ArrowDown' && imageButtons().length) {
    e.preventDefault();
    focusResult(0);
  } else if (e.key === 'Escape' && search.value) {
    e.preventDefault();
    search.value = '';
    onSearchInput();
  } else if (e.key === 'Enter') {
    e.preventDefault();
    searchNow();
  }
};

/** In the results: arrows, Home and End move the roving focus; ↑ from the first goes back to the search. */
export const onResultsKey = (e: KeyboardEvent) => {
  const buttons = imageButtons();
  const at = buttons.findIndex((b) => b === document.activeElement);
  if (at < 0) return;
  const moves: Record<string, number> = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 };
  const to = moves[e.key];
  if (to === undefined) return;
  e.preventDefault();
  if (to < 0) return search.focus();
  focusResult(to);
};

/** `/` anywhere but in a field focuses the search, while the selector is on screen. */
export const onGlobalKey = (e: KeyboardEvent) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement;
  if (e.key === '/' && !typing && !selector.hidden && !search.disabled) {
    e.preventDefault();
    search.focus();
    search.select();
  }
};
