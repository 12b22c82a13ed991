import { results, search } from './elements.ts';
import { loadPage, renderResults } from './results.ts';
import { localFirstPage } from './snapshot.ts';
import { state } from './state.ts';

const DEBOUNCE_MS = 120;

let debounce: ReturnType<typeof setTimeout> | undefined;
let typedAt = 0;

/** Each keystroke: results from the snapshot at once (provisional), the server's answer after the debounce. */
export const onSearchInput = () => {
  const keyAt = performance.now();
  typedAt ||= keyAt;
  const q = search.value.trim();
  const local = localFirstPage(q);
  if (local) {
    state.q = q;
    state.pageIndex = 0;
    state.page = local;
    state.active = 0;
    state.provisional = true;
    results.setAttribute('aria-busy', 'true');
    renderResults();
    performance.measure('selector:local', { start: keyAt });
  }
  clearTimeout(debounce);
  debounce = setTimeout(() => {
    state.q = q;
    void loadPage(0, typedAt);
    typedAt = 0;
  }, DEBOUNCE_MS);
};

/** Enter: ask the server now, without waiting for the debounce. */
export const searchNow = () => {
  clearTimeout(debounce);
  state.q = search.value.trim();
  void loadPage(0);
};
