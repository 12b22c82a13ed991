import type { Image, ImagePage, NamespaceRef, Tag } from '../api.ts';
import type { TagOrder } from '../tags.ts';

export const PAGE_SIZE = 50;
export const NS_KEY = 'image-selector.namespace';

export type Selected = { item: Image; tags?: Tag[]; error?: string; tag?: string; pinned: boolean; order: TagOrder; filter: string };

/** What the selector shows: the namespace, the search, the page on screen and the image open on the right. */
export const state: {
  ns: NamespaceRef | undefined;
  q: string;
  cursors: (string | undefined)[];
  pageIndex: number;
  page: ImagePage | undefined;
  active: number;
  selected: Selected | undefined;
  /** The first page on screen came from the snapshot and awaits the server's answer. */
  provisional: boolean;
  /** Hide images whose latest tag has critical findings (client-side, over the page on screen). */
  hideCritical: boolean;
} = { ns: undefined, q: '', cursors: [undefined], pageIndex: 0, page: undefined, active: 0, selected: undefined, provisional: false, hideCritical: false };

/** The platform admin's hooks into the selector (explain an open image); absent for everybody else. */
export const adminHooks: { current: { explain: (image: string) => Promise<void>; setImage: (image: string) => void } | undefined } = { current: undefined };

export const nsName = (n: NamespaceRef) => `${n.cluster}/${n.namespace}`;
export const granted = (g: string) => (g === 'public' ? 'public' : g.startsWith('workspace:') ? `workspace ${g.slice('workspace:'.length)}` : g);

/** The namespace and search in the address (`#ns=…&q=…`), so a reload or a shared link opens the same list. */
export const remember = () => {
  const params = new URLSearchParams(location.hash.slice(1));
  params.delete('ns');
  params.delete('q');
  if (state.ns) params.set('ns', nsName(state.ns));
  if (state.q) params.set('q', state.q);
  history.replaceState(null, '', `#${params}`);
};
