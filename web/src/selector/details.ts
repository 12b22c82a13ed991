import { ApiError, messageOf, type Image, type Tag } from '../api.ts';
import { fill, h } from '../dom.ts';
import { api, handleAuth } from '../session.ts';
import { ago, reference, shortDigest, sortTags } from '../tags.ts';
import { detailBadges } from './badges.ts';
import { details, focusResult, imageButtons } from './elements.ts';
import { adminHooks, granted, nsName, state, type Selected } from './state.ts';

const TAGS_SHOWN = 200;

let tagsRequest: AbortController | undefined;

/** Opens `item` on the right: its tags from the server (which re-checks the rule), the newest chosen. */
export const selectImage = async (item: Image) => {
  const ns = state.ns;
  if (!ns) return;
  state.selected = { item, pinned: false, order: 'newest', filter: '' };
  for (const b of imageButtons()) {
    if (b.dataset.image === item.image) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  adminHooks.current?.setImage(item.image);
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

const setReference = (sel: Selected, tag: Tag | undefined) => {
  referenceInput.value = tag ? reference(sel.item.image, tag, sel.pinned) : '';
  copyStatus.textContent = '';
};

const headOf = (item: Image) => [
  h('h2', {}, h('code', {}, item.image)),
  h(
    'p',
    { class: 'meta' },
    h('span', { class: `badge ${item.visibility}` }, item.visibility),
    ` granted by ${item.grantedBy.map(granted).join(' and ')} · ${item.tagCount} tag${item.tagCount === 1 ? '' : 's'}`,
  ),
];

const tagFilter = (sel: Selected) =>
  h('input', {
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
  });

const tagTools = (sel: Selected, tags: Tag[]) =>
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
    tags.length > 10 ? tagFilter(sel) : null,
  );

const tagOption = (sel: Selected, t: Tag) =>
  h(
    'label',
    { class: 'tag' },
    h('input', { type: 'radio', name: 'tag', value: t.tag, checked: t.tag === sel.tag, onchange: () => ((sel.tag = t.tag), setReference(sel, t)) }),
    h('span', { class: 'tag-name' }, t.tag),
    h('code', { class: 'digest', title: t.digest }, shortDigest(t.digest)),
    h('time', { datetime: t.pushedAt, title: t.pushedAt }, ago(t.pushedAt)),
    detailBadges(t),
  );

/** The tags as radio buttons, in the chosen order, filtered, at most TAGS_SHOWN of them. */
const tagList = (sel: Selected, tags: Tag[]) => {
  const needle = sel.filter.toLowerCase();
  const ordered = sortTags(tags, sel.order);
  const matching = needle ? ordered.filter((t) => t.tag.toLowerCase().includes(needle)) : ordered;
  const shown = matching.slice(0, TAGS_SHOWN);
  return h(
    'fieldset',
    { class: 'tags' },
    h('legend', {}, `Tag${matching.length > shown.length ? ` (first ${shown.length} of ${matching.length}: filter to narrow)` : ''}`),
    ...shown.map((t) => tagOption(sel, t)),
    shown.length ? null : h('p', { class: 'hint' }, needle ? `No tag contains “${sel.filter}”.` : 'This image has no tag left.'),
  );
};

const referenceBox = (sel: Selected, chosen: Tag | undefined) =>
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
        // The tag chosen now, not at render time: a radio may have changed it since.
        onchange: (e: Event) => ((sel.pinned = e.target instanceof HTMLInputElement && e.target.checked), setReference(sel, sel.tags?.find((t) => t.tag === sel.tag))),
      }),
      ' Pin to the digest (immutable: a re-pushed tag cannot change what is deployed)',
    ),
    copyStatus,
  );

/** The open image: its tags, the reference to deploy and, for admins, a link to explain it. */
export const renderDetails = () => {
  const sel = state.selected;
  if (!sel) return fill(details, h('p', { class: 'hint' }, 'Choose an image to see its tags and the reference to deploy.'));
  const head = headOf(sel.item);
  if (sel.error) return fill(details, ...head, h('p', { class: 'error', role: 'alert' }, sel.error));
  if (!sel.tags) return fill(details, ...head, h('p', { class: 'hint' }, 'Loading tags…'));
  const chosen = sel.tags.find((t) => t.tag === sel.tag);
  setReference(sel, chosen);
  const admin = adminHooks.current;
  fill(
    details,
    ...head,
    tagTools(sel, sel.tags),
    tagList(sel, sel.tags),
    referenceBox(sel, chosen),
    admin ? h('button', { type: 'button', class: 'link', onclick: () => void admin.explain(sel.item.image) }, 'Explain why it is offered') : null,
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

/** Esc in the open image goes back to its result (but clears nothing typed in the tag filter). */
export const onDetailsKey = (e: KeyboardEvent) => {
  if (e.key !== 'Escape' || !(e.target instanceof HTMLElement) || e.target.id === 'tag-filter') return;
  e.preventDefault();
  focusResult(state.active);
};
