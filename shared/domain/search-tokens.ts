/**
 * The selector's search: word-prefix match. An image `host/space/repository` splits into words (lower-case runs of
 * a-z and 0-9); it matches a query when the query's words start consecutive words of it. Unlike a substring, a word
 * prefix can be answered from postings written with the index row, so a search reads in proportion to the page it
 * returns, not to the catalogue. The server and the page both match with these functions.
 */

/**
 * Longest prefix that gets a posting. A longer query word reads the posting of its first MAX_PREFIX characters and
 * is checked in full against the image; 16 covers nearly every word whole while bounding the postings of an image.
 */
export const MAX_PREFIX = 16;

/** The words of an image or a query: lower-cased, split on every character that is not a-z or 0-9. */
export const searchTokens = (text: string): string[] => text.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length > 0);

/** The registry host of an image reference `host/path` (everything before the first `/`). */
export const hostOf = (image: string): string => image.slice(0, Math.max(0, image.indexOf('/')));

/** The distinct prefixes (1..MAX_PREFIX characters) of the words of `text`. */
const prefixesOf = (text: string): string[] => {
  const prefixes = new Set<string>();
  for (const token of searchTokens(text)) for (let n = 1; n <= Math.min(token.length, MAX_PREFIX); n++) prefixes.add(token.slice(0, n));
  return [...prefixes];
};

/**
 * The range of an image's space in its audience's sort order: `host/space/`, its path's first segment; undefined
 * when the path has none (a Docker Registry image of `library`, `host/nginx`, whose words are all its repository's).
 * Ranges of two spaces never overlap, and they sort as their images do.
 */
export const spaceRangeOf = (image: string): string | undefined => {
  const slash = image.indexOf('/', hostOf(image).length + 1);
  return slash < 0 ? undefined : image.slice(0, slash + 1);
};

/**
 * The distinct prefixes of the words of an image's repository (its path after the space): one posting each. Host
 * words get none and neither do space words: every image of a host or a space shares them, so their postings would
 * list the whole registry or space (5 of the 13 writes of `h/team-3/app-00123`); the images of one host or one space
 * are one range of the audience's sort order instead (`hostRanges`, `spacePrefixes`).
 */
export const postingPrefixes = (image: string): string[] => prefixesOf(image.slice((spaceRangeOf(image) ?? hostOf(image)).length));

/** The prefixes of every word of an image's path, space included: the postings it may have (an earlier version wrote the space's too). */
export const pathPrefixes = (image: string): string[] => prefixesOf(image.slice(hostOf(image).length));

/** The distinct prefixes of the words of a space (its range `host/space/`): one space posting each, per audience. */
export const spacePrefixes = (range: string): string[] => prefixesOf(range.slice(hostOf(range).length));

/**
 * Where a query can match an image of `host` starting inside the host's words: the path prefixes (after `host/`) of
 * the images that can match that way. `''`: every image of the host (the query's words all fall on host words);
 * `r`: the query runs past the host's last word, so the path's first word must start with the next query word `r`
 * (a path starts with its first word: repository names are lower-case and start with a letter or digit). Only
 * candidates: `matchesQuery` decides. Empty: no match can start on the host.
 */
export const hostRanges = (host: string, queryTokens: readonly string[]): string[] => {
  const words = searchTokens(host);
  const ranges = new Set<string>();
  for (let start = 0; start < words.length && queryTokens.length > 0; start++) {
    const onHost = Math.min(queryTokens.length, words.length - start);
    if (!queryTokens.slice(0, onHost).every((q, i) => words[start + i]?.startsWith(q))) continue;
    if (onHost === queryTokens.length) return [''];
    ranges.add(queryTokens[onHost] ?? '');
  }
  // A range inside another one is read by it.
  return [...ranges].filter((r) => ![...ranges].some((o) => o !== r && r.startsWith(o)));
};

/**
 * Whether the query's words start consecutive words of the image, in order (`svc-3` finds `svc-3` and `svc-30`,
 * not `svc-1` on a host with port `3000`; `api gate` finds `api-gateway`); no query word matches everything.
 */
export const matchesQuery = (image: string, queryTokens: readonly string[]): boolean => {
  const words = searchTokens(image);
  for (let start = 0; start + queryTokens.length <= words.length; start++)
    if (queryTokens.every((q, i) => words[start + i]?.startsWith(q))) return true;
  return queryTokens.length === 0;
};

/**
 * The posting prefix a search reads: that of the longest query word (the most selective guess without counts), the
 * last one of equal length, cut to MAX_PREFIX. Undefined when the query has no word.
 */
export const drivingPrefix = (queryTokens: readonly string[]): string | undefined => {
  let longest: string | undefined;
  for (const t of queryTokens) if (!longest || t.length >= longest.length) longest = t;
  return longest?.slice(0, MAX_PREFIX);
};
