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

/** The distinct prefixes (1..MAX_PREFIX characters) of an image's words: one posting each. */
export const postingPrefixes = (image: string): string[] => {
  const prefixes = new Set<string>();
  for (const token of searchTokens(image)) for (let n = 1; n <= Math.min(token.length, MAX_PREFIX); n++) prefixes.add(token.slice(0, n));
  return [...prefixes];
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
