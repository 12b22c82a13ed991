import { matchesQuery, searchTokens } from '../../../shared/domain/search-tokens.ts';
import type { Image, ImagePage, NamespaceRef } from '../api.ts';
import { api } from '../session.ts';
import { results } from './elements.ts';
import { nsName, PAGE_SIZE, state } from './state.ts';

/** Above this many visible images the page stops keeping a local copy and searches on the server only. */
const SNAPSHOT_MAX = 10_000;
const SNAPSHOT_PAGE = 100;
const SNAPSHOT_REFRESH_MS = 10_000;

/**
 * A copy of the namespace's whole list (at most SNAPSHOT_MAX images, in memory only), loaded in the background
 * after the first page, so the results follow every keystroke without a round trip. The server still answers
 * every search after the debounce and its answer wins: a push or a withdrawal since the copy shows up within
 * one request, and a difference refreshes the copy.
 */
type Snapshot = { ns: string; items: Image[]; complete: boolean; at: number };
let snapshot: Snapshot | undefined;
let snapshotRequest: AbortController | undefined;

export const loadSnapshot = async (n: NamespaceRef) => {
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

/** The copy is older than the refresh interval: the server's differing answer reloads it. */
export const snapshotStale = () => snapshot !== undefined && Date.now() - snapshot.at > SNAPSHOT_REFRESH_MS;

/** Page 1 of `q` from the snapshot, with the selector's own matching (each word of `q` starts a word of the image). */
export const localFirstPage = (q: string): ImagePage | undefined => {
  const ns = state.ns;
  if (!ns || !snapshot?.complete || snapshot.ns !== nsName(ns)) return undefined;
  const words = searchTokens(q);
  const matches = words.length ? snapshot.items.filter((i) => matchesQuery(i.image, words)) : snapshot.items;
  return { items: matches.slice(0, PAGE_SIZE), nextCursor: matches.length > PAGE_SIZE ? 'pending' : null };
};
