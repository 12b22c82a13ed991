import * as z from 'zod';
import type { BusEvent } from '../../events/contract.ts';
import { compactDetails, type TagDetails } from '../domain/image-details.ts';
import { Repository, Tag } from '../domain/model.ts';
import { isoTime } from '../domain/time.ts';
import { logger } from '../logger.ts';
import { keys } from './keys.ts';
import type { PendingRef } from './leases.ts';
import { pendingMark } from './pending.ts';
import type { TableOps } from './table.ts';
import { setWithMark } from './update-with-mark.ts';

/** A tag whose event time converts to a date: only such a tag can be ordered, shown or offered. */
const UsableTag = Tag.refine((t) => isoTime(t.eventTime) !== undefined, { message: 'eventTime is outside the range of a date', path: ['eventTime'] });

/**
 * A repository item as the indexer reads it: every attribute kept, those this version does not know included, so
 * `recordIndexed` writes the item back whole.
 */
const StoredRepository = Repository.loose();

/** What a repository item must still hold for its index rows to be found when the rest of it is unreadable. */
const IndexRecord = z.object({ indexedImage: z.string().optional(), indexedAudiences: z.array(z.string()).optional() });
const ItemKey = z.object({ pk: z.string(), sk: z.string() });

/** A stored item that fails its schema: named by its sort key, with the reason (never its content). */
export type UnreadableItem = { sk: string; error: string };

/** A repository item that fails its schema, with whatever of its index record could still be read. */
export type UnreadableRepository = UnreadableItem & { path: string } & z.infer<typeof IndexRecord>;

const reason = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'item'}: ${i.message}`).join('; ').slice(0, 300);
const sortKey = (item: Record<string, unknown>) => (typeof item.sk === 'string' ? item.sk : '?');

/** Every item of a Query, split into those its schema accepts and those it refuses (one bad item never hides the rest). */
const readAll = async <T extends z.ZodType>(ops: TableOps, schema: T, spec: { pk: string; skPrefix: string }) => {
  const items: z.infer<T>[] = [];
  const unreadable: (UnreadableItem & { raw: Record<string, unknown> })[] = [];
  const marks: PendingRef[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ops.queryPage(spec, startKey);
    for (const raw of page.items) {
      if (typeof raw.pendingId === 'string' && typeof raw.pk === 'string' && typeof raw.sk === 'string') marks.push({ pk: raw.pk, sk: raw.sk, id: raw.pendingId });
      const parsed = schema.safeParse(raw);
      if (parsed.success) items.push(parsed.data);
      else unreadable.push({ sk: sortKey(raw), error: reason(parsed.error), raw });
    }
    startKey = page.next;
  } while (startKey);
  return { items, unreadable, marks };
};

/**
 * Every tag item of a repository (tombstones included), the ones that cannot be used (bad fields, a time beyond any
 * date), and the pending marks read with them (a re-derivation from these tags applies their changes).
 */
const readTags = async (ops: TableOps, registryId: string, path: string) => {
  const { items, unreadable, marks } = await readAll(ops, UsableTag, keys.tagsOfRepository(registryId, path));
  return { tags: items, unusable: unreadable.map(({ sk, error }): UnreadableItem => ({ sk, error })), marks };
};
export type TagRead = Awaited<ReturnType<typeof readTags>>;

/** The repositories of a space, and the items that fail the schema (see `UnreadableRepository`). */
const readRepositories = async (ops: TableOps, registryId: string, space: string) => {
  const spec = keys.repositoriesOfSpace(registryId, space);
  const { items, unreadable } = await readAll(ops, StoredRepository, spec);
  return {
    repositories: items,
    unreadable: unreadable.map(({ sk, error, raw }) => unreadableRepository(raw, sk, spec.skPrefix, error)),
  };
};

const unreadableRepository = (raw: Record<string, unknown>, sk: string, skPrefix: string, error: string): UnreadableRepository => {
  const record = IndexRecord.safeParse(raw);
  return { sk, error, path: sk.startsWith(skPrefix) ? sk.slice(skPrefix.length) : sk, ...(record.success ? record.data : {}) };
};

/** A repository item as read: the repository, what is left of it when it fails the schema, or undefined (none). */
export type RepositoryRead = { repository: Repository } | { unreadable: UnreadableRepository } | undefined;

const repositoryRead = (raw: Record<string, unknown> | undefined, skPrefix: string): RepositoryRead => {
  if (!raw) return undefined;
  const parsed = StoredRepository.safeParse(raw);
  return parsed.success ? { repository: parsed.data } : { unreadable: unreadableRepository(raw, sortKey(raw), skPrefix, reason(parsed.error)) };
};

/** Repositories and tags: what the registries hold, ordered by the registry's own event time. */
export const catalogRepository = (ops: TableOps) => ({
  /** Idempotent: records that a repository exists in a space (so the space can be re-derived). */
  ensureRepository: (repo: Pick<Repository, 'registryId' | 'space' | 'repository' | 'path'>) =>
    ops.update(keys.repository(repo.registryId, repo.space, repo.path), {
      UpdateExpression: 'SET entityType = :e, registryId = :r, #space = :s, #repository = :repo, #path = :p',
      ExpressionAttributeNames: { '#space': 'space', '#repository': 'repository', '#path': 'path' },
      ExpressionAttributeValues: { ':e': 'Repository', ':r': repo.registryId, ':s': repo.space, ':repo': repo.repository, ':p': repo.path },
    }),
  /**
   * Records where the repository's index rows live (see `Repository.indexedAudiences`): the item written whole from
   * `repo` as read (every attribute it had), so that the records of the repositories a batch re-derives at once go
   * out together (one request, see `batchWrite`). Only the indexer writes the record, under the space's lease (its
   * writes fenced), and the one other write of the item (`ensureRepository`) sets fields it holds already: the put
   * loses nothing. Only the lease's holder purges a repository; a holder stalled past its lease's fence could put
   * one back, with a record that names at worst more audiences than hold its rows (a withdrawal then deletes
   * nothing there), never fewer.
   */
  recordIndexed: (repo: Repository, image: string, audiences: readonly string[]) =>
    ops.batchWrite([{ ...keys.repository(repo.registryId, repo.space, repo.path), entityType: 'Repository', ...repo, indexedImage: image, indexedAudiences: [...audiences] }], []),
  /** `recordIndexed` on an item that fails its schema (so it cannot be written whole): its other fields are left as they are. */
  recordIndexedUnreadable: (registryId: string, space: string, path: string, image: string, audiences: readonly string[]) =>
    ops.update(keys.repository(registryId, space, path), {
      UpdateExpression: 'SET indexedImage = :i, indexedAudiences = :a',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':i': image, ':a': [...audiences] },
    }),
  repository: (registryId: string, space: string, path: string) => ops.get(Repository, keys.repository(registryId, space, path)),
  /**
   * Repository items of one space by path (100 a round trip): each the repository, what is left of it when it fails
   * the schema, or undefined when there is none.
   */
  readRepositoriesAt: async (registryId: string, space: string, paths: readonly string[]) => {
    const skPrefix = keys.repositoriesOfSpace(registryId, space).skPrefix;
    const found = new Map((await ops.batchGet(paths.map((p) => keys.repository(registryId, space, p)))).map((raw) => [raw.sk, raw]));
    return new Map(paths.map((path) => [path, repositoryRead(found.get(keys.repository(registryId, space, path).sk), skPrefix)] as const));
  },
  /** The repositories of a space and, apart, the items that fail the schema (the indexer withdraws their rows). */
  readRepositories: (registryId: string, space: string) => readRepositories(ops, registryId, space),
  /** The readable repositories of a space; an unreadable item is logged and left out (the indexer reads them all). */
  repositories: async (registryId: string, space: string) => {
    const { repositories, unreadable } = await readRepositories(ops, registryId, space);
    for (const { sk, error } of unreadable) logger.warn('repository item unreadable, left out', { registryId, space, sk, error });
    return repositories;
  },
  /** Every tag item of a repository and, apart, the unusable ones (the indexer reports them). */
  readTags: (registryId: string, path: string) => readTags(ops, registryId, path),
  /**
   * Every usable tag item of a repository, tombstones included. An unusable one is logged and left out, so it is
   * never offered (the indexer reads them all and reports it).
   */
  tags: async (registryId: string, path: string) => {
    const { tags, unusable } = await readTags(ops, registryId, path);
    for (const { sk, error } of unusable) logger.warn('tag item unusable, left out', { registryId, path, sk, error });
    return tags;
  },

  /** Applies a push unless the tag already holds a state at least as new. False = nothing changed. */
  push: (tag: Omit<Tag, 'state'>, event: BusEvent) =>
    ops.put(
      { ...keys.tag(tag.registryId, tag.path, tag.tag), entityType: 'Tag', ...tag, state: 'present', ...pendingMark(event) },
      {
        ConditionExpression: 'attribute_not_exists(pk) OR eventTime < :t',
        ExpressionAttributeValues: { ':t': tag.eventTime },
      },
    ),

  /** Leaves a tombstone; with an equal event time a delete wins over a push. False = nothing changed. */
  delete: (tag: Omit<Tag, 'state' | 'digest'>, event: BusEvent) =>
    ops.update(
      keys.tag(tag.registryId, tag.path, tag.tag),
      setWithMark(
        { entityType: 'Tag', registryId: tag.registryId, space: tag.space, repository: tag.repository, path: tag.path, tag: tag.tag, state: 'deleted', eventTime: tag.eventTime },
        event,
        'attribute_not_exists(pk) OR eventTime < :t OR (eventTime = :t AND #st = :present)',
        // A tombstone says nothing about a digest.
        { values: { ':t': tag.eventTime, ':present': 'present' }, names: { '#st': 'state' }, remove: ['size', 'platforms', 'scan'] },
      ),
    ),

  /**
   * Sets `details` (only the fields given) on a present tag that still points at `digest`: it never creates a tag
   * and never touches another digest's. False = no such tag (gone, moved to another digest, never seen).
   */
  annotate: (ref: { registryId: string; path: string; tag: string }, digest: string, details: TagDetails, event: BusEvent) =>
    ops.update(
      keys.tag(ref.registryId, ref.path, ref.tag),
      setWithMark(compactDetails(details), event, 'attribute_exists(pk) AND #st = :present AND #dg = :d', {
        values: { ':present': 'present', ':d': digest },
        names: { '#st': 'state', '#dg': 'digest' },
      }),
    ),

  /** Removes a repository and its tags (space purge), whatever the tag items hold: only their keys are read. */
  purgeRepository: async (registryId: string, space: string, path: string) => {
    const { items } = await readAll(ops, ItemKey, keys.tagsOfRepository(registryId, path));
    await ops.batchWrite([], [...items.map(({ pk, sk }) => ({ pk, sk })), keys.repository(registryId, space, path)]);
  },
});
