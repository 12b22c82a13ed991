import * as z from 'zod';
import { compactDetails } from '../domain/image-details.ts';
import type { IndexRow } from '../domain/model.ts';
import { audiencesOfNamespace, maySelect } from '../domain/rule.ts';
import { isoTime } from '../domain/time.ts';
import type { Deps } from '../deps.ts';
import { badRequest, notFound } from '../errors.ts';
import type { Caller } from '../domain/caller.ts';
import { readableNamespace } from './tenancy.ts';

export const ListImagesQuery = z.strictObject({
  q: z.string().trim().max(255).optional().describe('word-prefix search: the words of `q` start consecutive words of `image`, case-insensitive'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(2048).optional(),
});
export const ListTagsQuery = z.strictObject({ image: z.string().min(1).max(1024) });

const Cursor = z.object({ v: z.literal(1), after: z.string() });
const encodeCursor = (after: string) => Buffer.from(JSON.stringify({ v: 1, after })).toString('base64url');
const decodeCursor = (cursor: string) => {
  try {
    return Cursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).after;
  } catch {
    throw badRequest('cursor is not one this API handed out');
  }
};

type ImageView = Omit<IndexRow, 'audience' | 'path'> & { grantedBy: string[] };
const view = ({ audience, path: _path, ...row }: IndexRow): ImageView => ({ ...row, grantedBy: [audience] });

/**
 * The selector: the union of the namespace's audiences (public, and its workspace's), sorted by image,
 * paged with an opaque cursor. Reads only the precomputed index: one Query per audience, or with `q` (a word-prefix
 * match, see search-tokens.ts) one posting list per audience and the rows it names. `asOf`: the answer reflects
 * every change made before it: the oldest change the indexer has not applied yet, else the time of the read, as
 * this process read them at most a second ago (`asOfBound`).
 */
export const listImages = async (
  cluster: string,
  namespace: string,
  query: z.infer<typeof ListImagesQuery>,
  caller: Caller,
  deps: Deps,
) => {
  const ns = await readableNamespace(deps, caller, cluster, namespace);
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  // The pending marks are read (or a read of the last second is awaited) before the index: a change whose mark
  // that read missed was applied before it, so its rows are there for the reads below.
  const asOf = await deps.store.pending.asOfBound(deps.clock());
  // limit + 1 from each audience is enough to fill a page of the union and know whether more follow.
  const pages = await Promise.all(
    audiencesOfNamespace(ns?.workspaceId).map((a) =>
      query.q ? deps.store.index.search(a, query.q, after, query.limit + 1) : deps.store.index.page(a, after, query.limit + 1),
    ),
  );
  const merged = new Map<string, ImageView>();
  for (const row of pages.flat()) {
    const seen = merged.get(row.image);
    if (seen) seen.grantedBy = [...seen.grantedBy, row.audience].sort();
    else merged.set(row.image, view(row));
  }
  const sorted = [...merged.values()].sort((a, b) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0));
  const items = sorted.slice(0, query.limit);
  const last = items.at(-1);
  return { items, nextCursor: sorted.length > query.limit && last ? encodeCursor(last.image) : null, asOf };
};

/**
 * The tags of one image, newest first; 404 unless the namespace may select it. The index row is checked
 * against the truth too, so a row not yet removed after a change can never reveal a tag. A tag that cannot
 * be used (it fails its schema, or its time is beyond any date) is left out.
 */
export const listTags = async (cluster: string, namespace: string, image: string, caller: Caller, deps: Deps) => {
  const ns = await readableNamespace(deps, caller, cluster, namespace);
  const hidden = () => notFound(`image ${image} is not available to namespace ${cluster}/${namespace}`);
  const rows = await Promise.all(audiencesOfNamespace(ns?.workspaceId).map((a) => deps.store.index.get(a, image)));
  const row = rows.find((r) => r);
  if (!row) throw hidden();
  const [registry, space, bindings] = await Promise.all([
    deps.store.registries.get(row.registryId),
    deps.store.spaces.getLive(row.registryId, row.space),
    deps.store.spaces.bindings(row.registryId, row.space),
  ]);
  const grant = { visibility: space?.visibility ?? 'private', boundWorkspaces: bindings.map((b) => b.workspaceId), owner: registry?.ownerWorkspaceId } as const;
  if (!registry || !space || !maySelect(grant, ns?.workspaceId))
    throw hidden();
  const tags = (await deps.store.catalog.tags(row.registryId, row.path)).filter((t) => t.state === 'present');
  tags.sort((a, b) => b.eventTime - a.eventTime || (a.tag < b.tag ? -1 : 1));
  return {
    items: tags.flatMap((t) => {
      const pushedAt = isoTime(t.eventTime);
      return pushedAt ? [{ tag: t.tag, digest: t.digest, pushedAt, ...compactDetails(t) }] : [];
    }),
  };
};
