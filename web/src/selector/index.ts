import { onDetailsKey, renderDetails } from './details.ts';
import { clusterSelect, details, hideCritical, namespaceSelect, next, prev, results, search } from './elements.ts';
import { onGlobalKey, onResultsKey, onSearchKey } from './keys.ts';
import { onClusterChange, onNamespaceChange } from './namespaces.ts';
import { loadPage, renderResults } from './results.ts';
import { onSearchInput } from './search.ts';
import { state } from './state.ts';

export { selector } from './elements.ts';
export { openNamespaces } from './namespaces.ts';
export { adminHooks, state as selectorState } from './state.ts';

/** Wires the selector's controls to their behaviour (once, at page load). */
export const wireSelector = () => {
  clusterSelect.addEventListener('change', onClusterChange);
  namespaceSelect.addEventListener('change', onNamespaceChange);
  search.addEventListener('input', onSearchInput);
  search.addEventListener('keydown', onSearchKey);
  results.addEventListener('keydown', onResultsKey);
  details.addEventListener('keydown', onDetailsKey);
  prev.addEventListener('click', () => void loadPage(state.pageIndex - 1));
  next.addEventListener('click', () => void loadPage(state.pageIndex + 1));
  hideCritical.addEventListener('change', () => ((state.hideCritical = hideCritical.checked), (state.active = 0), renderResults()));
  document.addEventListener('keydown', onGlobalKey);
  renderDetails();
};
