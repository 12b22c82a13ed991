import { ApiError, messageOf, type Image, type ImagePage } from '../api.ts';
import { fill, h, highlight } from '../dom.ts';
import { api, handleAuth } from '../session.ts';
import { ago } from '../tags.ts';
import { detailBadges, latestIsCritical } from './badges.ts';
import { selectImage } from './details.ts';
import { focusResult, imageButtons, next, pageLabel, pager, prev, results, search, status } from './elements.ts';
import { loadSnapshot, snapshotStale } from './snapshot.ts';
import { granted, nsName, PAGE_SIZE, remember, state } from './state.ts';

let pageRequest: AbortController | undefined;

const samePage = (a: ImagePage, b: ImagePage) => !!a.nextCursor === !!b.nextCursor && JSON.stringify(a.items) === JSON.stringify(b.items);

/** The server's answer for page `index` is on screen: redraw unless it equals the snapshot's provisional page. */
const showPage = (index: number, page: ImagePage) => {
  const unchanged = state.provisional && index === 0 && state.page !== undefined && samePage(state.page, page);
  if (state.provisional && !unchanged && state.ns && snapshotStale()) void loadSnapshot(state.ns);
  state.provisional = false;
  state.cursors = [...state.cursors.slice(0, index + 1), page.nextCursor ?? undefined];
  state.pageIndex = index;
  state.page = page;
  const drawn = performance.now();
  if (unchanged) renderPager(page);
  else {
    state.active = 0;
    renderResults();
  }
  performance.measure('selector:render', { start: drawn });
};

const showLoadError = (index: number, error: unknown) => {
  state.provisional = false;
  state.page = undefined;
  status.textContent = '';
  pager.hidden = true;
  fill(
    results,
    h(
      'div',
      { class: 'empty error', role: 'alert' },
      h('h2', {}, error instanceof ApiError && error.status === 403 ? 'Not allowed' : 'Could not load images'),
      h('p', {}, messageOf(error)),
      h('button', { type: 'button', onclick: () => void loadPage(index) }, 'Retry'),
    ),
  );
};

/**
 * Loads page `index` of the selector for the current namespace and search. A newer request aborts an older
 * one, so fast typing never renders stale results. User Timing measures: `selector:local` (one keystroke →
 * results from the snapshot on screen), `selector:update` (→ the server's answer on screen), `selector:render` (DOM).
 */
export const loadPage = async (index: number, since = performance.now()) => {
  const ns = state.ns;
  if (!ns || index < 0) return;
  pageRequest?.abort();
  const request = (pageRequest = new AbortController());
  results.setAttribute('aria-busy', 'true');
  if (!(state.provisional && index === 0)) status.textContent = state.q ? `Searching for “${state.q}”…` : 'Loading…';
  remember();
  try {
    const page = await api.images(ns, state.q, index === 0 ? undefined : state.cursors[index], PAGE_SIZE, request.signal);
    if (request.signal.aborted) return;
    showPage(index, page);
    performance.measure('selector:update', { start: since });
  } catch (error) {
    if (request.signal.aborted || handleAuth(error)) return;
    showLoadError(index, error);
  } finally {
    if (pageRequest === request) results.setAttribute('aria-busy', 'false');
  }
};

/** The page's items the filter leaves on screen (client-side: the server pages over every offered image). */
const shownItems = (page: ImagePage) => (state.hideCritical ? page.items.filter((i) => !latestIsCritical(i)) : page.items);

export const renderPager = (page: ImagePage) => {
  pager.hidden = state.pageIndex === 0 && !page.nextCursor;
  prev.disabled = state.pageIndex === 0;
  next.disabled = !page.nextCursor || state.provisional;
  pageLabel.textContent = `Page ${state.pageIndex + 1}`;
  const count = page.items.length;
  const hidden = page.items.length - shownItems(page).length;
  const line =
    `${count} image${count === 1 ? '' : 's'}${state.q ? ` matching “${state.q}”` : ''} on page ${state.pageIndex + 1} for ${state.ns ? nsName(state.ns) : ''}` +
    (hidden ? ` · ${hidden} hidden: latest tag has critical findings` : '') +
    (page.nextCursor ? ' · more on the next page' : '');
  // Unchanged text is not re-announced by screen readers that watch the live region.
  if (status.textContent !== line) status.textContent = line;
};

const emptyState = (where: string) =>
  h(
    'div',
    { class: 'empty' },
    h('h2', {}, state.q ? `No image matches “${state.q}”` : `No image is offered to ${where} yet`),
    h(
      'p',
      {},
      state.q
        ? `Search looks for that text anywhere in host/space/repository of every image ${where} may deploy.`
        : 'Public spaces, and spaces bound to its workspace, appear here as soon as an image is pushed.',
    ),
  );

/** One result: a button in the roving tab order (`i` is its place on the page). */
const renderItem = (item: Image, i: number, repo: string) =>
  h(
    'li',
    {},
    h(
      'button',
      {
        type: 'button',
        class: 'image',
        'data-image': item.image,
        tabindex: i === state.active ? 0 : -1,
        'aria-controls': 'details',
        'aria-current': state.selected?.item.image === item.image ? 'true' : false,
        onclick: () => {
          state.active = i;
          void selectImage(item);
        },
        onfocus: () => (state.active = i),
      },
      h('span', { class: 'repo' }, ...highlight(repo, state.q)),
      h('span', { class: 'meta' }, `${item.latestTag.tag} · ${item.tagCount} tag${item.tagCount === 1 ? '' : 's'} · ${ago(item.latestTag.pushedAt)}`),
      detailBadges(item.latestTag),
    ),
  );

/** The images of one space, under a heading with its host, visibility and grants; `start` numbers the first. */
const renderGroup = (items: Image[], start: number) => {
  const first = items[0] as Image;
  const host = first.image.slice(0, first.image.indexOf('/'));
  const grants = [...new Set(items.flatMap((i) => i.grantedBy))].sort();
  const headingId = `group-${first.registryId}-${first.space}`;
  return h(
    'section',
    { class: 'group', 'aria-labelledby': headingId },
    h(
      'h3',
      { id: headingId },
      h('span', { class: 'space-name' }, `${host}/${first.space}`),
      h('span', { class: `badge ${first.visibility}` }, first.visibility),
      h('span', { class: 'granted' }, 'granted by ', grants.map(granted).join(' and ')),
    ),
    h('ul', {}, ...items.map((item, k) => renderItem(item, start + k, item.image.slice(host.length + 1 + first.space.length + 1) || item.repository))),
  );
};

const groupsOf = (items: Image[]) => {
  const groups = new Map<string, Image[]>();
  for (const item of items) {
    const key = `${item.registryId}/${item.space}`;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return [...groups.values()];
};

/** Draws the page on screen, grouped by space; focus stays on the same image when it is still there. */
export const renderResults = () => {
  const page = state.page;
  const ns = state.ns;
  if (!page || !ns) return;
  renderPager(page);
  const focused = document.activeElement instanceof HTMLElement && results.contains(document.activeElement) ? document.activeElement.dataset.image : undefined;
  const items = shownItems(page);
  if (!items.length) {
    fill(results, page.items.length ? h('div', { class: 'empty' }, h('h2', {}, 'Every image on this page has critical findings in its latest tag'), h('p', {}, 'Clear “Hide images whose latest tag has critical findings” to see them.')) : emptyState(nsName(ns)));
    if (focused) search.focus();
    return;
  }
  let start = 0;
  fill(results, ...groupsOf(items).map((items) => renderGroup(items, (start += items.length) - items.length)));
  const again = focused && imageButtons().findIndex((b) => b.dataset.image === focused);
  if (typeof again === 'number' && again >= 0) focusResult(again);
  else if (focused) search.focus();
};
