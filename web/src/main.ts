import * as z from 'zod/mini';
import { createAdminPanel, type AdminPanel } from './admin.ts';
import { ApiError, createApi, messageOf, type Image, type ImagePage, type MyNamespaces, type NamespaceRef, type Tag } from './api.ts';
import { matchesQuery, searchTokens } from '../../shared/domain/search-tokens.ts';
import { byId, fill, h, highlight } from './dom.ts';
import './styles.css';
import { ago, reference, shortDigest, sortTags, type TagOrder } from './tags.ts';

const PAGE_SIZE = 50;
const DEBOUNCE_MS = 120;
/** Above this many visible images the page stops keeping a local copy and searches on the server only. */
const SNAPSHOT_MAX = 10_000;
const SNAPSHOT_PAGE = 100;
const SNAPSHOT_REFRESH_MS = 10_000;
const TAGS_SHOWN = 200;
const TOKEN_KEY = 'image-selector.token';
const NS_KEY = 'image-selector.namespace';

type Selected = { item: Image; tags?: Tag[]; error?: string; tag?: string; pinned: boolean; order: TagOrder; filter: string };
const state: {
  token: string | undefined;
  me: MyNamespaces | undefined;
  ns: NamespaceRef | undefined;
  q: string;
  cursors: (string | undefined)[];
  pageIndex: number;
  page: ImagePage | undefined;
  active: number;
  selected: Selected | undefined;
} = { token: sessionStorage.getItem(TOKEN_KEY) ?? undefined, me: undefined, ns: undefined, q: '', cursors: [undefined], pageIndex: 0, page: undefined, active: 0, selected: undefined };

const api = createApi(() => state.token);

const Claims = z.object({ sub: z.optional(z.string()), exp: z.optional(z.number()), roles: z.optional(z.array(z.string())), workspaces: z.optional(z.array(z.string())) });
/** Only to greet the user; the service verifies the token on every call. */
const claimsOf = (token: string) => {
  try {
    const payload = token.split('.')[1] ?? '';
    const parsed = Claims.safeParse(JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

const nsName = (n: NamespaceRef) => `${n.cluster}/${n.namespace}`;
const granted = (g: string) => (g === 'public' ? 'public' : g.startsWith('workspace:') ? `workspace ${g.slice('workspace:'.length)}` : g);

// ---- the page skeleton (built once; regions are re-filled) ----

const who = h('div', { class: 'who', id: 'who' });
const tokenInput = h('input', { id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-hint' });
const signinError = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
const signin = h(
  'section',
  { id: 'signin', class: 'panel', 'aria-labelledby': 'signin-title', hidden: true },
  h('h2', { id: 'signin-title' }, 'Sign in with a token'),
  h(
    'form',
    { onsubmit: (e: SubmitEvent) => (e.preventDefault(), useToken(tokenInput.value)) },
    h('label', { for: 'token' }, 'Bearer token'),
    h('div', { class: 'row' }, tokenInput, h('button', { type: 'submit', class: 'primary' }, 'Use token')),
    h('p', { id: 'token-hint', class: 'hint' }, 'Readers get a token from their identity provider; `npm start` prints an admin token. It stays in this browser tab only (sessionStorage).'),
  ),
  signinError,
);

const clusterSelect = h('select', { id: 'cluster', onchange: () => onClusterChange() });
const namespaceSelect = h('select', { id: 'namespace', onchange: () => onNamespaceChange() });
const workspaceNote = h('span', { class: 'hint', id: 'workspace-note' });
const search = h('input', {
  id: 'q',
  type: 'search',
  placeholder: 'Search by the start of any word, e.g. nginx, pay or team api',
  autocomplete: 'off',
  spellcheck: 'false',
  'aria-controls': 'results',
  'aria-describedby': 'status search-keys',
  oninput: () => onSearchInput(),
  onkeydown: (e: KeyboardEvent) => onSearchKey(e),
});
const status = h('p', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' });
const results = h('div', { id: 'results', class: 'results', 'aria-busy': 'false', onkeydown: (e: KeyboardEvent) => onResultsKey(e) });
const details = h('aside', { id: 'details', class: 'details', 'aria-label': 'Image details', onkeydown: (e: KeyboardEvent) => onDetailsKey(e) });
const prev = h('button', { type: 'button', id: 'prev', onclick: () => void loadPage(state.pageIndex - 1) }, '← Previous');
const next = h('button', { type: 'button', id: 'next', onclick: () => void loadPage(state.pageIndex + 1) }, 'Next →');
const pageLabel = h('span', { id: 'page-label' });
const pager = h('nav', { id: 'pager', class: 'pager', 'aria-label': 'Result pages', hidden: true }, prev, pageLabel, next);

const selector = h(
  'section',
  { id: 'selector', 'aria-label': 'Image selector', hidden: true },
  h(
    'div',
    { class: 'target' },
    h('label', { for: 'cluster' }, 'Cluster', clusterSelect),
    h('label', { for: 'namespace' }, 'Namespace', namespaceSelect),
    workspaceNote,
  ),
  h(
    'div',
    { class: 'search' },
    h('label', { for: 'q' }, 'Search images'),
    search,
    h('p', { id: 'search-keys', class: 'hint' }, 'Words match from their start (pay finds payments, not repay). Press / to search, ↓ ↑ to move through results, Enter to open an image, Esc to go back.'),
  ),
  status,
  h('div', { class: 'columns' }, h('div', {}, results, pager), details),
);

const adminPanel = h('section', { id: 'admin', class: 'panel', 'aria-labelledby': 'admin-title', hidden: true });
/** Built for platform admins only. */
let admin: AdminPanel | undefined;

const app = byId('app', HTMLDivElement);
app.append(
  h('header', { class: 'bar' }, h('h1', {}, 'Image selector'), who),
  h('main', {}, signin, selector, adminPanel),
);

// ---- token ----

const renderWho = () => {
  if (!state.token) return fill(who);
  const claims = claimsOf(state.token);
  const expires = claims?.exp ? new Date(claims.exp * 1000).toISOString() : undefined;
  const role = state.me?.admin ? 'platform admin' : claims?.workspaces?.length ? `workspaces ${claims.workspaces.join(', ')}` : 'reader';
  fill(
    who,
    h('span', {}, claims?.sub ?? 'token', ' · ', role, expires ? ` · expires ${ago(expires)}` : ''),
    h('button', { type: 'button', id: 'forget', onclick: () => forgetToken() }, 'Forget token'),
  );
};

const showSignin = (message = '') => {
  signin.hidden = false;
  selector.hidden = true;
  adminPanel.hidden = true;
  signinError.textContent = message;
  renderWho();
  tokenInput.focus();
};

const useToken = (raw: string) => {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  if (!token) return;
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  tokenInput.value = '';
  void start();
};

const forgetToken = (message = '') => {
  state.token = undefined;
  state.me = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  showSignin(message);
};

/** A refused token sends the user back to sign in; anything else is shown where it happened. */
const handleAuth = (error: unknown) => {
  if (error instanceof ApiError && error.status === 401) {
    forgetToken(`The service refused this token (${error.message}). It may have expired: paste a new one.`);
    return true;
  }
  return false;
};

// ---- namespaces ----

const start = async () => {
  if (!state.token) return showSignin();
  try {
    state.me = await api.myNamespaces();
  } catch (error) {
    if (!handleAuth(error)) showSignin(messageOf(error));
    return;
  }
  signin.hidden = true;
  selector.hidden = false;
  renderWho();
  const me = state.me;
  const clusters = [...new Set(me.items.map((n) => n.cluster))];
  fill(clusterSelect, ...clusters.map((c) => h('option', { value: c }, c)));
  const wanted = new URLSearchParams(location.hash.slice(1)).get('ns') ?? sessionStorage.getItem(NS_KEY) ?? '';
  const initial = me.items.find((n) => nsName(n) === wanted) ?? me.items[0];
  // Another token may have replaced an admin's in this tab.
  admin = me.admin ? (admin ?? createAdminPanel(adminPanel, { api, namespace: () => state.ns, handleAuth })) : undefined;
  adminPanel.hidden = !me.admin;
  if (!initial) {
    clusterSelect.disabled = namespaceSelect.disabled = search.disabled = true;
    fill(namespaceSelect);
    const why = me.admin
      ? 'No namespace is registered yet. Bind one with PUT /api/v1/clusters/{cluster}/namespaces/{namespace}.'
      : me.workspaces.length
        ? `No namespace is bound to your workspaces (${me.workspaces.join(', ')}) yet. Ask a platform admin to bind one.`
        : 'Your token names no workspace, so it opens no namespace. Ask for a token with a workspaces claim.';
    fill(results, h('div', { class: 'empty' }, h('h2', {}, 'No namespace to deploy to'), h('p', {}, why)));
    return;
  }
  clusterSelect.disabled = namespaceSelect.disabled = search.disabled = false;
  clusterSelect.value = initial.cluster;
  fillNamespaces(initial.cluster);
  namespaceSelect.value = nsName(initial);
  state.q = new URLSearchParams(location.hash.slice(1)).get('q') ?? '';
  search.value = state.q;
  setNamespace(initial);
  search.focus();
};

const fillNamespaces = (cluster: string) =>
  fill(
    namespaceSelect,
    ...(state.me?.items ?? [])
      .filter((n) => n.cluster === cluster)
      .map((n) => h('option', { value: nsName(n) }, `${n.namespace} — ${n.workspaceId ? `workspace ${n.workspaceId}` : 'no workspace'}`)),
  );

const onClusterChange = () => {
  fillNamespaces(clusterSelect.value);
  onNamespaceChange();
};

const onNamespaceChange = () => {
  const n = state.me?.items.find((x) => nsName(x) === namespaceSelect.value);
  if (n) setNamespace(n);
};

const setNamespace = (n: NamespaceRef) => {
  state.ns = n;
  sessionStorage.setItem(NS_KEY, nsName(n));
  workspaceNote.textContent = n.workspaceId ? `sees public images and those of workspace ${n.workspaceId}` : 'bound to no workspace: sees public images only';
  state.selected = undefined;
  renderDetails();
  void loadPage(0).then(() => (state.ns === n ? loadSnapshot(n) : undefined));
};

const remember = () => {
  const params = new URLSearchParams();
  if (state.ns) params.set('ns', nsName(state.ns));
  if (state.q) params.set('q', state.q);
  history.replaceState(null, '', `#${params}`);
};

// ---- search and results ----

let pageRequest: AbortController | undefined;
let debounce: ReturnType<typeof setTimeout> | undefined;
let typedAt = 0;
/** The first page on screen came from the snapshot and awaits the server's answer. */
let provisional = false;

/**
 * A copy of the namespace's whole list (at most SNAPSHOT_MAX images, in memory only), loaded in the background
 * after the first page, so the results follow every keystroke without a round trip. The server still answers
 * every search after the debounce and its answer wins: a push or a withdrawal since the copy shows up within
 * one request, and a difference refreshes the copy.
 */
type Snapshot = { ns: string; items: Image[]; complete: boolean; at: number };
let snapshot: Snapshot | undefined;
let snapshotRequest: AbortController | undefined;

const loadSnapshot = async (n: NamespaceRef) => {
  snapshotRequest?.abort();
  const request = (snapshotRequest = new AbortController());
  const next: Snapshot = { ns: nsName(n), items: [], complete: false, at: Date.now() };
  let cursor: string | undefined;
  try {
    do {
      const page = await api.images(n, '', cursor, SNAPSHOT_PAGE, request.signal);
      next.items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      if (next.items.length > SNAPSHOT_MAX) return;
    } while (cursor);
  } catch {
    // Only an optimisation: searching falls back to the server.
    return;
  }
  if (request.signal.aborted) return;
  next.complete = true;
  snapshot = next;
  results.dataset.snapshot = `${next.ns} ${next.items.length}`;
};

/** Page 1 of `q` from the snapshot, with the selector's own matching (each word of `q` starts a word of the image). */
const localFirstPage = (q: string): ImagePage | undefined => {
  const ns = state.ns;
  if (!ns || !snapshot?.complete || snapshot.ns !== nsName(ns)) return undefined;
  const words = searchTokens(q);
  const matches = words.length ? snapshot.items.filter((i) => matchesQuery(i.image, words)) : snapshot.items;
  return { items: matches.slice(0, PAGE_SIZE), nextCursor: matches.length > PAGE_SIZE ? 'pending' : null };
};

const onSearchInput = () => {
  const keyAt = performance.now();
  typedAt ||= keyAt;
  const q = search.value.trim();
  const local = localFirstPage(q);
  if (local) {
    state.q = q;
    state.pageIndex = 0;
    state.page = local;
    state.active = 0;
    provisional = true;
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

const samePage = (a: ImagePage, b: ImagePage) => !!a.nextCursor === !!b.nextCursor && JSON.stringify(a.items) === JSON.stringify(b.items);

/**
 * Loads page `index` of the selector for the current namespace and search. A newer request aborts an older
 * one, so fast typing never renders stale results. User Timing measures: `selector:local` (one keystroke →
 * results from the snapshot on screen), `selector:update` (→ the server's answer on screen), `selector:render` (DOM).
 */
const loadPage = async (index: number, since = performance.now()) => {
  const ns = state.ns;
  if (!ns || index < 0) return;
  pageRequest?.abort();
  const request = (pageRequest = new AbortController());
  results.setAttribute('aria-busy', 'true');
  if (!(provisional && index === 0)) status.textContent = state.q ? `Searching for “${state.q}”…` : 'Loading…';
  remember();
  try {
    const page = await api.images(ns, state.q, index === 0 ? undefined : state.cursors[index], PAGE_SIZE, request.signal);
    if (request.signal.aborted) return;
    const unchanged = provisional && index === 0 && state.page !== undefined && samePage(state.page, page);
    if (provisional && !unchanged && snapshot && Date.now() - snapshot.at > SNAPSHOT_REFRESH_MS) void loadSnapshot(ns);
    provisional = false;
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
    performance.measure('selector:update', { start: since });
  } catch (error) {
    if (request.signal.aborted || handleAuth(error)) return;
    provisional = false;
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
  } finally {
    if (pageRequest === request) results.setAttribute('aria-busy', 'false');
  }
};

const renderPager = (page: ImagePage) => {
  pager.hidden = state.pageIndex === 0 && !page.nextCursor;
  prev.disabled = state.pageIndex === 0;
  next.disabled = !page.nextCursor || provisional;
  pageLabel.textContent = `Page ${state.pageIndex + 1}`;
  const count = page.items.length;
  const line =
    `${count} image${count === 1 ? '' : 's'}${state.q ? ` matching “${state.q}”` : ''} on page ${state.pageIndex + 1} for ${state.ns ? nsName(state.ns) : ''}` +
    (page.nextCursor ? ' · more on the next page' : '');
  // Unchanged text is not re-announced by screen readers that watch the live region.
  if (status.textContent !== line) status.textContent = line;
};

const imageButtons = () => [...results.querySelectorAll<HTMLButtonElement>('button.image')];

const renderResults = () => {
  const page = state.page;
  const ns = state.ns;
  if (!page || !ns) return;
  renderPager(page);
  const focused = document.activeElement instanceof HTMLElement && results.contains(document.activeElement) ? document.activeElement.dataset.image : undefined;
  if (!page.items.length) {
    fill(results, emptyState(nsName(ns)));
    if (focused) search.focus();
    return;
  }
  const groups = new Map<string, Image[]>();
  for (const item of page.items) {
    const key = `${item.registryId}/${item.space}`;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  let index = 0;
  const q = state.q;
  fill(
    results,
    ...[...groups.values()].map((items) => {
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
        h(
          'ul',
          {},
          ...items.map((item) => {
            const i = index++;
            const repo = item.image.slice(host.length + 1 + first.space.length + 1) || item.repository;
            return h(
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
                h('span', { class: 'repo' }, ...highlight(repo, q)),
                h('span', { class: 'meta' }, `${item.latestTag.tag} · ${item.tagCount} tag${item.tagCount === 1 ? '' : 's'} · ${ago(item.latestTag.pushedAt)}`),
              ),
            );
          }),
        ),
      );
    }),
  );
  const again = focused && imageButtons().findIndex((b) => b.dataset.image === focused);
  if (typeof again === 'number' && again >= 0) focusResult(again);
  else if (focused) search.focus();
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

const focusResult = (i: number) => {
  const buttons = imageButtons();
  const target = buttons[Math.max(0, Math.min(i, buttons.length - 1))];
  if (!target) return;
  for (const b of buttons) b.tabIndex = b === target ? 0 : -1;
  target.focus();
  target.scrollIntoView({ block: 'nearest' });
};

const onSearchKey = (e: KeyboardEvent) => {
  if (e.key === 'ArrowDown' && imageButtons().length) {
    e.preventDefault();
    focusResult(0);
  } else if (e.key === 'Escape' && search.value) {
    e.preventDefault();
    search.value = '';
    onSearchInput();
  } else if (e.key === 'Enter') {
    e.preventDefault();
    clearTimeout(debounce);
    state.q = search.value.trim();
    void loadPage(0);
  }
};

const onResultsKey = (e: KeyboardEvent) => {
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

// ---- one image: tags and the reference ----

let tagsRequest: AbortController | undefined;

const selectImage = async (item: Image) => {
  const ns = state.ns;
  if (!ns) return;
  state.selected = { item, pinned: false, order: 'newest', filter: '' };
  for (const b of imageButtons()) {
    if (b.dataset.image === item.image) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  admin?.setImage(item.image);
  renderDetails();
  tagsRequest?.abort();
  const request = (tagsRequest = new AbortController());
  try {
    const { items } = await api.tags(ns, item.image, request.signal);
    if (request.signal.aborted || state.selected?.item !== item) return;
    state.selected.tags = items;
    state.selected.tag = sortTags(items, 'newest')[0]?.tag;
  } catch (error) {
    if (request.signal.aborted || handleAuth(error) || state.selected?.item !== item) return;
    state.selected.error = error instanceof ApiError && error.status === 404 ? `${item.image} is no longer offered to ${nsName(ns)}.` : messageOf(error);
  }
  renderDetails();
  details.querySelector<HTMLInputElement>('input[name="tag"]:checked')?.focus();
};

const referenceInput = h('input', { id: 'reference', readonly: true, spellcheck: 'false', 'aria-describedby': 'copy-status' });
const copyStatus = h('span', { id: 'copy-status', class: 'hint', role: 'status', 'aria-live': 'polite' });

const renderDetails = () => {
  const sel = state.selected;
  if (!sel) {
    fill(details, h('p', { class: 'hint' }, 'Choose an image to see its tags and the reference to deploy.'));
    return;
  }
  const { item } = sel;
  const head = [
    h('h2', {}, h('code', {}, item.image)),
    h(
      'p',
      { class: 'meta' },
      h('span', { class: `badge ${item.visibility}` }, item.visibility),
      ` granted by ${item.grantedBy.map(granted).join(' and ')} · ${item.tagCount} tag${item.tagCount === 1 ? '' : 's'}`,
    ),
  ];
  if (sel.error) return fill(details, ...head, h('p', { class: 'error', role: 'alert' }, sel.error));
  if (!sel.tags) return fill(details, ...head, h('p', { class: 'hint' }, 'Loading tags…'));

  const ordered = sortTags(sel.tags, sel.order);
  const needle = sel.filter.toLowerCase();
  const matching = needle ? ordered.filter((t) => t.tag.toLowerCase().includes(needle)) : ordered;
  const shown = matching.slice(0, TAGS_SHOWN);
  const chosen = sel.tags.find((t) => t.tag === sel.tag);
  referenceInput.value = chosen ? reference(item.image, chosen, sel.pinned) : '';
  copyStatus.textContent = '';

  fill(
    details,
    ...head,
    h(
      'div',
      { class: 'tag-tools' },
      h(
        'label',
        {},
        'Order ',
        h(
          'select',
          { id: 'tag-order', onchange: (e: Event) => ((sel.order = e.target instanceof HTMLSelectElement && e.target.value === 'version' ? 'version' : 'newest'), renderDetails()) },
          h('option', { value: 'newest', selected: sel.order === 'newest' }, 'Newest first'),
          h('option', { value: 'version', selected: sel.order === 'version' }, 'Highest version first'),
        ),
      ),
      sel.tags.length > 10
        ? h('input', {
            id: 'tag-filter',
            type: 'search',
            placeholder: 'Filter tags',
            'aria-label': 'Filter tags',
            value: sel.filter,
            oninput: (e: Event) => {
              sel.filter = e.target instanceof HTMLInputElement ? e.target.value : '';
              renderDetails();
              document.getElementById('tag-filter')?.focus();
            },
          })
        : null,
    ),
    h(
      'fieldset',
      { class: 'tags' },
      h('legend', {}, `Tag${matching.length > shown.length ? ` (first ${shown.length} of ${matching.length}: filter to narrow)` : ''}`),
      ...shown.map((t) =>
        h(
          'label',
          { class: 'tag' },
          h('input', {
            type: 'radio',
            name: 'tag',
            value: t.tag,
            checked: t.tag === sel.tag,
            onchange: () => {
              sel.tag = t.tag;
              referenceInput.value = reference(item.image, t, sel.pinned);
              copyStatus.textContent = '';
            },
          }),
          h('span', { class: 'tag-name' }, t.tag),
          h('code', { class: 'digest', title: t.digest }, shortDigest(t.digest)),
          h('time', { datetime: t.pushedAt, title: t.pushedAt }, ago(t.pushedAt)),
        ),
      ),
      shown.length ? null : h('p', { class: 'hint' }, needle ? `No tag contains “${sel.filter}”.` : 'This image has no tag left.'),
    ),
    h(
      'div',
      { class: 'reference' },
      h('label', { for: 'reference' }, 'Reference to deploy'),
      h('div', { class: 'row' }, referenceInput, h('button', { type: 'button', id: 'copy', class: 'primary', disabled: !chosen, onclick: () => void copyReference() }, 'Copy')),
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          id: 'pin',
          checked: sel.pinned,
          onchange: (e: Event) => {
            sel.pinned = e.target instanceof HTMLInputElement && e.target.checked;
            if (chosen) referenceInput.value = reference(item.image, chosen, sel.pinned);
            copyStatus.textContent = '';
          },
        }),
        ' Pin to the digest (immutable: a re-pushed tag cannot change what is deployed)',
      ),
      copyStatus,
    ),
    admin ? h('button', { type: 'button', class: 'link', onclick: () => void admin?.explain(item.image) }, 'Explain why it is offered') : null,
  );
};

const copyReference = async () => {
  const text = referenceInput.value;
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard API (or no permission): fall back to the selection.
    referenceInput.select();
    if (!document.execCommand('copy')) {
      copyStatus.textContent = 'Press Ctrl+C (⌘C) to copy the selected reference.';
      return;
    }
  }
  copyStatus.textContent = `Copied ${text}`;
};

const onDetailsKey = (e: KeyboardEvent) => {
  if (e.key !== 'Escape' || !(e.target instanceof HTMLElement) || e.target.id === 'tag-filter') return;
  e.preventDefault();
  focusResult(state.active);
};

// ---- global keys ----

document.addEventListener('keydown', (e) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement;
  if (e.key === '/' && !typing && !selector.hidden && !search.disabled) {
    e.preventDefault();
    search.focus();
    search.select();
  }
});

renderDetails();
void start();
