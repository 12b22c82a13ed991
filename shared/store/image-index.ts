import * as z from 'zod';
import { IndexRow } from '../domain/model.ts';
import { drivingPrefix, hostOf, hostRanges, matchesQuery, pathPrefixes, postingPrefixes, searchTokens, spacePrefixes, spaceRangeOf } from '../domain/search-tokens.ts';
import { logger } from '../logger.ts';
import { keys, type Key } from './keys.ts';
import { keyText, type TableOps } from './table.ts';

const RawItem = z.record(z.string(), z.unknown());
/** A search posting as read back: only the image is needed (its row is read again before it is shown). */
const Posting = z.object({ image: z.string() });

type RowKey = Pick<IndexRow, 'audience' | 'image'>;
/** Each (audience, image) once: a batch must not name one key twice. */
const distinct = <T extends RowKey>(rows: readonly T[]) => [...new Map(rows.map((r) => [`${r.audience}\n${r.image}`, r])).values()];
/** The keys of a row's postings, derived from the image alone (so a delete needs nothing else). */
const postingKeys = ({ audience, image }: RowKey): Key[] => postingPrefixes(image).map((p) => keys.searchPosting(audience, p, image));
/** The keys a row's postings may have: its own and those an earlier version wrote for its space's words (a delete removes both). */
const everyPostingKey = ({ audience, image }: RowKey): Key[] => pathPrefixes(image).map((p) => keys.searchPosting(audience, p, image));

/** The distinct (audience, host) items of `rows`, by key text. */
const hostKeys = (rows: readonly RowKey[]) => new Map(rows.map((r) => keys.audienceHost(r.audience, hostOf(r.image))).map((key) => [keyText(key), key]));

/** The space postings of the distinct (audience, space) of `rows`, by (audience, range): each with its range. */
const spacePostings = (rows: readonly RowKey[]) => {
  const spaces = new Map<string, { key: Key; range: string }[]>();
  for (const { audience, image } of rows) {
    const range = spaceRangeOf(image);
    if (range && !spaces.has(`${audience}\n${range}`)) spaces.set(`${audience}\n${range}`, spacePrefixes(range).map((p) => ({ key: keys.searchSpacePosting(audience, p, range), range })));
  }
  return spaces;
};

/** A row that fails its schema is never shown: it reads as absent, and is logged (by key, never its content). */
const readRow = (raw: Record<string, unknown>, audience: string): IndexRow | undefined => {
  const parsed = IndexRow.safeParse(raw);
  if (parsed.success) return parsed.data;
  const error = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 300);
  logger.warn('index row unreadable, not shown', { audience, sk: typeof raw.sk === 'string' ? raw.sk : '?', error });
  return undefined;
};

/** Every row of one audience, and apart the images of the items that fail the schema. */
const audit = async (ops: TableOps, audience: string) => {
  const { pk, skPrefix } = keys.audiencePage(audience);
  const rows: IndexRow[] = [];
  const unreadable: Pick<IndexRow, 'audience' | 'image'>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ops.queryPage({ pk, skPrefix }, startKey);
    for (const raw of page.items) {
      const row = readRow(raw, audience);
      if (row) rows.push(row);
      else if (typeof raw.sk === 'string' && raw.sk.startsWith(skPrefix)) unreadable.push({ audience, image: raw.sk.slice(skPrefix.length) });
    }
    startKey = page.next;
  } while (startKey);
  return { rows, unreadable };
};

/** Lower bound of a Query on an image-sorted partition: after `after` (exclusive), or from its first image. */
const fromImage = (skPrefix: string, after: string | undefined) => (after !== undefined ? { after: `${skPrefix}${after}` } : { skPrefix });

/** The readable rows of `images` in one audience, in the order given; a missing or unreadable row is left out. */
const readRows = async (ops: TableOps, audience: string, images: readonly string[]) => {
  const found = new Map((await ops.batchGet(images.map((i) => keys.indexRow(audience, i)))).map((raw) => [keyText(raw), raw]));
  return images.flatMap((image) => {
    const raw = found.get(keyText(keys.indexRow(audience, image)));
    const row = raw && readRow(raw, audience);
    return row ? [row] : [];
  });
};

/** Candidates read by one Query over their range from this many on (fewer: by key). */
const RANGE_READ_MIN = 8;

/**
 * The readable rows of `images` (candidates in image order, all after `after`) in one audience. The candidates of a
 * common word lie side by side in the audience's order: one Query after `after`, as many rows as there are
 * candidates, reads them (a 4 KB unit per ~10 rows, where a BatchGet takes one per row); a candidate past what it
 * covered is read by key. Few candidates are read by key at once. A candidate inside the range but not in it has no row.
 */
const readCandidates = async (ops: TableOps, audience: string, images: readonly string[], after: string | undefined) => {
  if (images.length < RANGE_READ_MIN) return readRows(ops, audience, images);
  const { pk, skPrefix } = keys.audiencePage(audience);
  const read = await ops.queryPage({ pk, ...fromImage(skPrefix, after), limit: images.length });
  const wanted = new Set(images);
  const inRange = new Map(read.items.flatMap((item) => (typeof item.sk === 'string' && wanted.has(item.sk.slice(skPrefix.length)) ? [[item.sk.slice(skPrefix.length), item] as const] : [])));
  const coveredTo = read.next === undefined ? undefined : String(read.next.sk).slice(skPrefix.length);
  const beyond = coveredTo === undefined ? [] : images.filter((image) => image > coveredTo);
  const byKey = new Map((await readRows(ops, audience, beyond)).map((row) => [row.image, row]));
  return images.flatMap((image) => {
    const raw = inRange.get(image);
    const row = raw ? readRow(raw, audience) : byKey.get(image);
    return row ? [row] : [];
  });
};

/** Up to `limit` readable rows of one audience after `after` (image). Reads on while unreadable rows leave a page short. */
const page = async (ops: TableOps, audience: string, after: string | undefined, limit: number) => {
  const { pk, skPrefix } = keys.audiencePage(audience);
  const rows: IndexRow[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const read = await ops.queryPage({ pk, ...fromImage(skPrefix, after), limit }, startKey);
    for (const item of read.items) {
      const row = readRow(item, audience);
      if (row) rows.push(row);
      if (rows.length === limit) return rows;
    }
    startKey = read.next;
  } while (startKey);
  return rows;
};

/** Rows in image order (the selector's). */
const byImage = (a: IndexRow, b: IndexRow) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0);

/**
 * Up to `limit` matching rows after `after` from the posting list of `prefix`: its items are read in image order
 * about two pages at a time, the other words are checked on the posting's image, and only the candidates' rows are
 * read (BatchGet). A posting whose row is gone or unreadable is skipped: only a row, read again, is ever shown.
 */
const fromPostings = async (ops: TableOps, audience: string, prefix: string, words: readonly string[], after: string | undefined, limit: number) => {
  const { pk, skPrefix } = keys.searchPostings(audience, prefix);
  const rows: IndexRow[] = [];
  // Every candidate read so far is at most this image: the next ones' range starts after it.
  let lowest = after;
  let startKey: Record<string, unknown> | undefined;
  do {
    const read = await ops.queryPage({ pk, ...fromImage(skPrefix, after), limit: 2 * limit }, startKey);
    const candidates = read.items.flatMap((item) => {
      const posting = Posting.safeParse(item);
      return posting.success && matchesQuery(posting.data.image, words) ? [posting.data.image] : [];
    });
    // Only as many rows as the page still lacks are read at a time: most candidates' rows exist.
    for (let i = 0; i < candidates.length && rows.length < limit; ) {
      const slice = candidates.slice(i, i + limit - rows.length);
      rows.push(...(await readCandidates(ops, audience, slice, i === 0 ? lowest : candidates[i - 1])));
      i += slice.length;
    }
    lowest = candidates.at(-1) ?? lowest;
    if (rows.length === limit) return rows;
    startKey = read.next;
  } while (startKey);
  return rows;
};

/** Up to `limit` matching rows after `after` among the audience's images that start with `imagePrefix` (one range). */
const fromRange = async (ops: TableOps, audience: string, imagePrefix: string, words: readonly string[], after: string | undefined, limit: number) => {
  const { pk, skPrefix } = keys.audiencePage(audience);
  const rows: IndexRow[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const read = await ops.queryPage({ pk, skPrefix: `${skPrefix}${imagePrefix}`, ...(after !== undefined ? { after: `${skPrefix}${after}` } : {}), limit: 2 * limit }, startKey);
    for (const item of read.items) {
      const row = readRow(item, audience);
      if (row && matchesQuery(row.image, words)) rows.push(row);
      if (rows.length === limit) return rows;
    }
    startKey = read.next;
  } while (startKey);
  return rows;
};

const SearchHost = z.object({ sk: z.string().startsWith('HOST#') });
const SearchSpace = z.object({ range: z.string() });
/** Space postings read at a time: their ranges are read at once, in order, until a page is full. */
const SPACE_PAGE = 8;

/**
 * Up to `limit` matching rows after `after` in the spaces whose words have a word starting with `prefix` (the
 * space postings): each space's rows are one range of the audience, and the ranges sort as their images do, so they
 * are read in their order, a few at once, until the page is full. The first range read is the one `after` is in.
 */
const fromSpaces = async (ops: TableOps, audience: string, prefix: string, words: readonly string[], after: string | undefined, limit: number) => {
  const { pk, skPrefix } = keys.searchSpacePostings(audience, prefix);
  // Every range that can hold an image after `after` sorts from `after`'s own range on (see spaceRangeOf).
  const from = after === undefined ? undefined : (spaceRangeOf(after)?.slice(0, -1) ?? after);
  const rows: IndexRow[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const read = await ops.queryPage({ pk, ...fromImage(skPrefix, from), limit: SPACE_PAGE }, startKey);
    const ranges = read.items.flatMap((item) => {
      const space = SearchSpace.safeParse(item);
      return space.success && (after === undefined || space.data.range > after || after.startsWith(space.data.range)) ? [space.data.range] : [];
    });
    for (const found of await Promise.all(ranges.map((range) => fromRange(ops, audience, range, words, after, limit)))) {
      rows.push(...found.slice(0, limit - rows.length));
      if (rows.length === limit) return rows;
    }
    startKey = read.next;
  } while (startKey);
  return rows;
};

/**
 * Up to `limit` rows of one audience after `after` (image) that match `q` word by word (see search-tokens.ts). A
 * match whose driving word falls on a repository's words is in that word's posting list; on a space's words, in the
 * range of each space of that word's space postings; one that starts on a host's words is in that host's range of
 * the audience (`hostRanges`; the audience's hosts are one small Query). Each
 * source gives its first `limit` matches, so their union's first `limit` are the answer: what a search reads
 * follows the page and the driving word's matches, never the audience's size. No word: no filter.
 */
const search = async (ops: TableOps, audience: string, q: string, after: string | undefined, limit: number) => {
  const words = searchTokens(q);
  const prefix = drivingPrefix(words);
  if (prefix === undefined) return page(ops, audience, after, limit);
  const hostRows = async () => {
    const hosts = (await ops.queryAll(SearchHost, keys.audienceHosts(audience))).map((h) => h.sk.slice('HOST#'.length));
    const ranges = hosts.flatMap((host) => hostRanges(host, words).map((r) => fromRange(ops, audience, `${host}/${r}`, words, after, limit)));
    return (await Promise.all(ranges)).flat();
  };
  const found = await Promise.all([fromPostings(ops, audience, prefix, words, after, limit), hostRows(), fromSpaces(ops, audience, prefix, words, after, limit)]);
  return [...new Map(found.flat().map((row) => [row.image, row])).values()].sort(byImage).slice(0, limit);
};

const AudienceVersion = z.object({ version: z.number() });
/** Pages (and searches) one process keeps, the most recently stored (a page of 51 rows is about 20 KB). */
const PAGE_CACHE_SIZE = 500;

/**
 * Pages and searches read before, each under the version of its audience read just before it: a hit costs one
 * small GetItem instead of Queries on the audience's partitions (the hot `public` one above all). Exact: every
 * write to an audience bumps its version after the write (a batch of puts once, before the marks of its changes
 * go), so an answer is served from here only if nothing was written to its audience since it was read — as if it
 * were read again.
 */
const pageCache = () => {
  const pages = new Map<string, { version: number; rows: IndexRow[] }>();
  return {
    get: (key: string, version: number) => {
      const hit = pages.get(key);
      return hit?.version === version ? hit.rows : undefined;
    },
    set: (key: string, version: number, rows: IndexRow[]) => {
      pages.delete(key);
      if (pages.size >= PAGE_CACHE_SIZE) pages.delete(pages.keys().next().value ?? '');
      pages.set(key, { version, rows });
    },
  };
};

/** The precomputed selector index: one row per (audience, image), and the search postings of each row. */
export const imageIndexRepository = (ops: TableOps) => {
  const cache = pageCache();
  /** The (audience, host) items and (audience, space) postings this process wrote: written once, not with every new row. */
  const knownHosts = new Set<string>();
  const knownSpaces = new Set<string>();
  const versionOf = async (audience: string) => (await ops.get(AudienceVersion, keys.audienceVersion(audience)))?.version ?? 0;
  const bump = (audience: string) =>
    ops.update(keys.audienceVersion(audience), { UpdateExpression: 'ADD #v :one', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':one': 1 } });
  const bumpAll = async (audiences: Iterable<string>) => void (await Promise.all([...new Set(audiences)].map(bump)));
  /** `read`, or what it answered before under the audience's version read just now. */
  const cached = async (audience: string, query: unknown[], read: () => Promise<IndexRow[]>): Promise<readonly IndexRow[]> => {
    const key = JSON.stringify([audience, ...query]);
    const version = await versionOf(audience);
    const hit = cache.get(key, version);
    if (hit) return hit;
    const rows = await read();
    cache.set(key, version, rows);
    return rows;
  };
  return {
    /** The row, or undefined when there is none or it is unreadable (a row that cannot be read is never shown). */
    get: async (audience: string, image: string) => {
      const raw = await ops.get(RawItem, keys.indexRow(audience, image));
      return raw ? readRow(raw, audience) : undefined;
    },
    /** Whether an item sits at the row's key, readable or not (what a withdrawal must delete). */
    has: async (audience: string, image: string) => !!(await ops.get(RawItem, keys.indexRow(audience, image))),
    /** Every readable row of one audience. */
    all: async (audience: string) => (await audit(ops, audience)).rows,
    /** Every row of one audience, and the keys of the unreadable ones (repair deletes them). */
    audit: (audience: string) => audit(ops, audience),
    /**
     * Puts `puts`, deletes `deletes` with their postings, and writes the postings of `fresh` (rows new to their
     * audience: a row's postings depend only on its image, so a row rewritten in place keeps them) and the item of
     * each host and the postings of each space of theirs this process has not written yet. Writing postings
     * again is harmless, so repair may pass every row. Order: postings before their row, a row before its postings
     * go, so a crash leaves at worst a posting without a row (skipped by search), never a row search cannot find.
     * With `bumpLater`, the audiences of `puts` and `fresh` are added to it instead of bumped, for the caller to `bump` once
     * for many writes (before it clears their marks); a removal's audience is always bumped at once.
     */
    write: async (puts: IndexRow[], deletes: RowKey[], fresh: RowKey[] = [], bumpLater?: Set<string>) => {
      const newHosts = [...hostKeys(fresh)].filter(([text]) => !knownHosts.has(text));
      const newSpaces = [...spacePostings(fresh)].filter(([text]) => !knownSpaces.has(text));
      try {
        await ops.batchWrite(
          [
            ...newHosts.map(([, key]) => ({ ...key, entityType: 'SearchHost' })),
            ...newSpaces.flatMap(([, postings]) => postings.map(({ key, range }) => ({ ...key, entityType: 'SearchSpace', range }))),
            ...distinct(fresh).flatMap((row) => postingKeys(row).map((key) => ({ ...key, entityType: 'SearchPosting', image: row.image }))),
            ...puts.map((row) => ({ ...keys.indexRow(row.audience, row.image), entityType: 'IndexRow', ...row })),
          ],
          [...deletes.map((row): Key => keys.indexRow(row.audience, row.image)), ...distinct(deletes).flatMap(everyPostingKey)],
        );
        for (const [text] of newHosts) knownHosts.add(text);
        for (const [text] of newSpaces) knownSpaces.add(text);
        // After the rows and postings: a page or search read since is read under the new version, never served from
        // before the write (postings given back by repair, `fresh` without a put, change what a search finds too).
        const written = [...puts, ...fresh].map((r) => r.audience);
        if (bumpLater) for (const audience of written) bumpLater.add(audience);
        else await bumpAll(written);
      } finally {
        // Even after a write that failed part way: some rows may be gone already, and no page may keep showing them.
        await bumpAll(deletes.map((r) => r.audience));
      }
    },
    /** Bumps the versions of `audiences` (after writes that left them to the caller). */
    bump: bumpAll,
    /**
     * The rows of `rows` that lack one of their postings, their host's item or a posting of their space (read, not
     * written: repair passes them to `write` as `fresh`, and counts them as drift).
     */
    missingPostings: async <T extends RowKey>(rows: readonly T[]): Promise<T[]> => {
      const unique = distinct(rows);
      const hosts = hostKeys(unique);
      const spaces = spacePostings(unique);
      const spaceKeys = [...spaces.values()].flat().map((p) => p.key);
      const held = new Set((await ops.batchGet([...unique.flatMap(postingKeys), ...hosts.values(), ...spaceKeys])).map(keyText));
      // A host item or space posting found missing is written again by the repair's `write`, whatever this process wrote before.
      for (const text of hosts.keys()) if (!held.has(text)) knownHosts.delete(text);
      const lostSpaces = new Set([...spaces].filter(([, postings]) => postings.some((p) => !held.has(keyText(p.key)))).map(([text]) => text));
      for (const text of lostSpaces) knownSpaces.delete(text);
      const hostKey = (row: RowKey) => keys.audienceHost(row.audience, hostOf(row.image));
      const spaceLost = (row: RowKey) => lostSpaces.has(`${row.audience}\n${spaceRangeOf(row.image) ?? ''}`);
      return unique.filter((row) => spaceLost(row) || [hostKey(row), ...postingKeys(row)].some((key) => !held.has(keyText(key))));
    },
    /** Up to `limit` rows of one audience after `after` (image), in image order; from the page cache when still exact. */
    page: (audience: string, after: string | undefined, limit: number) => cached(audience, [after ?? null, limit], () => page(ops, audience, after, limit)),
    /**
     * Up to `limit` rows of one audience after `after` that match `q` (see `search`); from the page cache when still
     * exact, under the query's words: what a search reads (rows, postings, host items, space postings) is written
     * with the rows, before the audience's version is bumped.
     */
    search: (audience: string, q: string, after: string | undefined, limit: number) =>
      cached(audience, ['q', searchTokens(q).join(' '), after ?? null, limit], () => search(ops, audience, q, after, limit)),
  };
};
