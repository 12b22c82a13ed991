import * as z from 'zod';
import type { BusEvent } from '../../events/contract.ts';
import {
  IndexRepairRequested,
  NamespaceBound,
  RegistryConnected,
  RegistryRemoved,
  SpaceBound,
  SpaceCreated,
  SpaceDeleted,
  SpaceUnbound,
  SpaceVisibilityChanged,
  TagDeleted,
  TagPushed,
} from '../../events/index.ts';
import { imageRef, type Audience, type IndexRow, type Registry, type Repository, type Space, type Tag } from '../domain/model.ts';
import { audiencesOfSpace, PUBLIC, workspaceAudience } from '../domain/rule.ts';
import { isoTime } from '../domain/time.ts';
import type { Deps } from '../deps.ts';
import { logger } from '../logger.ts';
import type { UnreadableItem, UnreadableRepository } from '../store/catalog.ts';
import { keys, type Key } from '../store/keys.ts';
import type { Store } from '../store/index.ts';

type IndexerDeps = Pick<Deps, 'store' | 'clock'>;

/**
 * A part of a re-derivation that failed, or an item it could not use: logged with the item, counted on the
 * registry (`Registry.indexFailures`) and retried. Never holds up another repository, space or audience.
 */
export type IndexFailure = { registryId?: string; space?: string; path?: string; audience?: string; error: string };

/** Thrown once an event was handled as far as it could be, so the bus retries it (in AWS: then dead-letters it). */
export class IndexIncompleteError extends Error {
  constructor(readonly failures: readonly IndexFailure[]) {
    const first = failures[0];
    super(`${failures.length} part(s) of the re-derivation failed; first: ${first ? `${first.space ?? ''} ${first.path ?? ''}: ${first.error}` : ''}`);
  }
}

const messageOf = (error: unknown) =>
  (error instanceof z.ZodError
    ? error.issues.map((i) => `${i.path.join('.') || 'item'}: ${i.message}`).join('; ')
    : error instanceof Error
      ? error.message
      : String(error)
  ).slice(0, 300);

/** Runs one part of a re-derivation; a failure is noted and the caller goes on with the next part. */
const isolated = async (failures: IndexFailure[], item: Omit<IndexFailure, 'error'>, run: () => Promise<number | void>): Promise<number> => {
  try {
    return (await run()) ?? 0;
  } catch (error) {
    failures.push({ ...item, error: messageOf(error) });
    return 0;
  }
};

/** Logs every failure with its item and counts them on their registries. Never throws: the caller throws next. */
const recordFailures = async (deps: IndexerDeps, failures: readonly IndexFailure[]) => {
  for (const f of failures) logger.error('index re-derivation failed; it is retried', { ...f });
  const at = deps.clock().toISOString();
  const byRegistry = new Map<string, IndexFailure[]>();
  for (const f of failures) if (f.registryId) byRegistry.set(f.registryId, [...(byRegistry.get(f.registryId) ?? []), f]);
  await Promise.all(
    [...byRegistry].map(async ([registryId, fs]) => {
      const last = fs[fs.length - 1];
      const item = { ...(last?.space ? { space: last.space } : {}), ...(last?.path ? { path: last.path } : {}) };
      try {
        await deps.store.registries.countIndexFailures(registryId, { count: fs.length, at, item, error: last?.error ?? '' });
      } catch (error) {
        logger.error('index failures could not be counted', { registryId, error: messageOf(error) });
      }
    }),
  );
};

/** What the truth says about one space right now; `unreadable`: it cannot be known (an item fails its schema). */
type SpaceTruth =
  | { live: true; registry: Registry; space: Space; audiences: Audience[] }
  | { live: false; registry?: Registry; space?: Space; unreadable?: true };

const loadSpace = async (store: Store, registryId: string, name: string): Promise<SpaceTruth> => {
  // One round trip: the bindings of a gone space are read for nothing, which is cheaper than waiting.
  const [registry, space, bindings] = await Promise.all([
    store.registries.getAny(registryId),
    store.spaces.get(registryId, name),
    store.spaces.bindings(registryId, name),
  ]);
  if (!registry || registry.deleted || !space || space.deleted) return { live: false, registry, space };
  return { live: true, registry, space, audiences: audiencesOfSpace(space.visibility, bindings.map((b) => b.workspaceId)) };
};

/**
 * The truth of a space, or, when one of its items fails its schema, a truth that allows no audience: who may see
 * the space cannot be known, so nothing of it may stay offered (fail closed). Noted as a failure, so it is retried.
 */
const readTruth = async (store: Store, registryId: string, name: string, failures: IndexFailure[]): Promise<SpaceTruth> => {
  try {
    return await loadSpace(store, registryId, name);
  } catch (error) {
    if (!(error instanceof z.ZodError)) throw error;
    failures.push({ registryId, space: name, error: `space truth unreadable: ${messageOf(error)}` });
    return { live: false, unreadable: true };
  }
};

const sameRow = (a: IndexRow | undefined, b: IndexRow) => !!a && JSON.stringify(a) === JSON.stringify(b);

/** The audiences of `audiences` that hold an item at the image's key (readable or not). */
const present = async (store: Store, image: string, audiences: readonly string[]) =>
  (await Promise.all(audiences.map(async (a) => ((await store.index.has(a, image)) ? a : undefined)))).filter((a): a is string => !!a);

/**
 * Deletes the repository's rows in audiences the space no longer allows. Reads no tag, so no tag can hold a
 * withdrawal up. Returns the record left and the rows removed.
 */
const withdrawRepository = async (store: Store, truth: SpaceTruth, repo: Repository, audit: boolean) => {
  const allowed: readonly string[] = truth.live ? truth.audiences : [];
  const previous = repo.indexedAudiences ?? [];
  const gone = previous.filter((a) => !allowed.includes(a));
  const image = repo.indexedImage;
  if (!image || gone.length === 0) return { repo, changed: 0 };
  const doomed = audit ? await present(store, image, gone) : gone;
  await store.index.write([], doomed.map((audience) => ({ audience, image })));
  const kept = previous.filter((a) => allowed.includes(a));
  await store.catalog.recordIndexed(repo.registryId, repo.space, repo.path, image, kept);
  return { repo: { ...repo, indexedAudiences: kept }, changed: doomed.length };
};

/**
 * A repository item that fails its schema: its rows are withdrawn from every audience they may be in (fail
 * closed). Without a readable record, that is every audience there is.
 */
const withdrawUnreadable = async (deps: IndexerDeps, truth: SpaceTruth, registryId: string, space: string, item: UnreadableRepository, audit: boolean) => {
  const image = item.indexedImage ?? (truth.registry ? imageRef(truth.registry.host, item.path) : undefined);
  if (!image) throw new Error(`repository item unreadable (${item.error}), and so is where its rows are`);
  const recorded = item.indexedAudiences ?? [PUBLIC, ...(await deps.store.tenancy.listWorkspaces()).map((w) => workspaceAudience(w.id))];
  const candidates = [...new Set([...recorded, ...(truth.live ? truth.audiences : [])])];
  const doomed = audit ? await present(deps.store, image, candidates) : candidates;
  await deps.store.index.write([], doomed.map((audience) => ({ audience, image })));
  await deps.store.catalog.recordIndexed(registryId, space, item.path, image, []);
  return doomed.length;
};

const unusableTags = (repo: Repository, unusable: readonly UnreadableItem[]): IndexFailure[] =>
  unusable.map((u) => ({ registryId: repo.registryId, space: repo.space, path: repo.path, error: `tag item ${u.sk} left out: ${u.error}` }));

/** The rows the truth asks for: one per audience that may see the repository, none once no usable tag is left. */
const desiredRows = (truth: SpaceTruth, repo: Repository, all: readonly Tag[]): IndexRow[] => {
  if (!truth.live || truth.audiences.length === 0) return [];
  const tags = all.filter((t) => t.state === 'present');
  let latest = tags[0];
  for (const t of tags) if (latest && (t.eventTime > latest.eventTime || (t.eventTime === latest.eventTime && t.tag > latest.tag))) latest = t;
  const pushedAt = latest ? isoTime(latest.eventTime) : undefined;
  if (!latest?.digest || !pushedAt) return [];
  const image = imageRef(truth.registry.host, repo.path);
  return truth.audiences.map((audience) => ({
    audience,
    image,
    registryId: repo.registryId,
    space: repo.space,
    repository: repo.repository,
    path: repo.path,
    visibility: truth.space.visibility,
    tagCount: tags.length,
    latestTag: { tag: latest.tag, digest: latest.digest ?? '', pushedAt },
    updatedAt: pushedAt,
  }));
};

/**
 * Re-derives one repository's rows from the truth and its usable tags (after `withdrawRepository`), and removes
 * the rows it no longer may have. Unusable tags are left out and noted as failures. Returns how many rows it
 * changed. With `audit`, existing rows are read first so unchanged rows count as no drift. A repository's image
 * never changes (a registry's host is fixed), so `indexedImage` names every row.
 */
const reindexRepository = async (
  store: Store,
  truth: SpaceTruth,
  repo: Repository,
  failures: IndexFailure[],
  audit = false,
  readTags = () => store.catalog.readTags(repo.registryId, repo.path),
): Promise<number> => {
  let tags: Tag[] = [];
  if (truth.live && truth.audiences.length > 0) {
    const read = await readTags();
    failures.push(...unusableTags(repo, read.unusable));
    tags = read.tags;
  }
  let rows = desiredRows(truth, repo, tags);
  const desired = rows.map((r) => r.audience);
  const previous = repo.indexedAudiences ?? [];
  const image = rows[0]?.image ?? repo.indexedImage;
  if (!image) return 0;
  let stale = previous.filter((a) => !desired.includes(a)).map((audience) => ({ audience, image }));
  if (audit) {
    const existing = await Promise.all(rows.map((r) => store.index.get(r.audience, r.image)));
    rows = rows.filter((r, i) => !sameRow(existing[i], r));
    const held = await present(store, image, stale.map((r) => r.audience));
    stale = stale.filter((r) => held.includes(r.audience));
  }
  // Record a superset first: a crash between the writes must never leave a row the record does not name.
  if (desired.some((a) => !previous.includes(a)))
    await store.catalog.recordIndexed(repo.registryId, repo.space, repo.path, image, [...new Set([...previous, ...desired])]);
  await store.index.write(rows, stale);
  if (previous.some((a) => !desired.includes(a)) || desired.some((a) => !previous.includes(a)))
    await store.catalog.recordIndexed(repo.registryId, repo.space, repo.path, image, desired);
  return rows.length + stale.length;
};

/**
 * Removes every trace of a deleted space (or of a space of a removed registry): rows, repositories, tags, bindings,
 * the space. The space's own items go only once every repository went, so a retry finds what is left.
 */
const purgeSpace = async (deps: IndexerDeps, truth: SpaceTruth, registryId: string, name: string, failures: IndexFailure[]) => {
  const { store } = deps;
  const registryGone = !truth.registry || !!truth.registry.deleted;
  if (!registryGone && !truth.space?.deleted) return;
  // A deleted space's name can be used again (a push or an admin purges the tombstone first and recreates it):
  // stop as soon as the tombstone is gone, so this purge never removes what the new space holds.
  const stillDoomed = async () => registryGone || !!(await store.spaces.get(registryId, name))?.deleted;
  const before = failures.length;
  const { repositories, unreadable } = await store.catalog.readRepositories(registryId, name);
  for (const repo of repositories) {
    if (!(await stillDoomed())) return;
    await isolated(failures, { registryId, space: name, path: repo.path }, async () => {
      await withdrawRepository(store, truth, repo, false);
      await store.catalog.purgeRepository(registryId, name, repo.path);
    });
  }
  for (const item of unreadable) {
    if (!(await stillDoomed())) return;
    await isolated(failures, { registryId, space: name, path: item.path }, async () => {
      await withdrawUnreadable(deps, truth, registryId, name, item, false);
      await store.catalog.purgeRepository(registryId, name, item.path);
    });
  }
  if (failures.length > before || !(await stillDoomed())) return;
  for (const b of await store.spaces.bindings(registryId, name)) await store.spaces.purgeBinding(registryId, name, b.workspaceId, true);
  await store.spaces.purge(registryId, name, registryGone);
};

/**
 * Re-derives every row of one space, or purges it when the space or its registry is gone. Withdrawals come
 * first, for every repository: they read no tag, so an item that cannot be used never keeps a row where the
 * rule no longer allows it. Each repository is isolated; failures are noted in `failures`. Returns rows changed.
 */
const deriveSpace = async (deps: IndexerDeps, registryId: string, name: string, audit: boolean, failures: IndexFailure[]): Promise<number> => {
  const truth = await readTruth(deps.store, registryId, name, failures);
  if (!truth.live && !truth.unreadable) {
    await purgeSpace(deps, truth, registryId, name, failures);
    return 0;
  }
  const { repositories, unreadable } = await deps.store.catalog.readRepositories(registryId, name);
  let changed = 0;
  const withdrawn: Repository[] = [];
  for (const repo of repositories)
    changed += await isolated(failures, { registryId, space: name, path: repo.path }, async () => {
      const done = await withdrawRepository(deps.store, truth, repo, audit);
      withdrawn.push(done.repo);
      return done.changed;
    });
  for (const item of unreadable) {
    failures.push({ registryId, space: name, path: item.path, error: `repository item unreadable, its rows withdrawn: ${item.error}` });
    changed += await isolated(failures, { registryId, space: name, path: item.path }, () => withdrawUnreadable(deps, truth, registryId, name, item, audit));
  }
  for (const repo of withdrawn)
    changed += await isolated(failures, { registryId, space: name, path: repo.path }, () => reindexRepository(deps.store, truth, repo, failures, audit));
  return changed;
};

/**
 * Re-derives every row of one space, or purges it when the space or its registry is gone. Returns rows changed.
 * Throws `IndexIncompleteError` at the end when a part failed (every other part done, the failures counted).
 */
export const reindexSpace = async (deps: IndexerDeps, registryId: string, name: string, audit = false): Promise<number> => {
  const failures: IndexFailure[] = [];
  const changed = await isolated(failures, { registryId, space: name }, () => deriveSpace(deps, registryId, name, audit, failures));
  if (failures.length) {
    await recordFailures(deps, failures);
    throw new IndexIncompleteError(failures);
  }
  return changed;
};

/** Re-derives one repository (after a tag changed); its tags are read meanwhile, but only used after the withdrawal. */
const reindexRepositoryOf = async (deps: IndexerDeps, registryId: string, space: string, path: string, failures: IndexFailure[]) => {
  const tags = deps.store.catalog.readTags(registryId, path);
  // Met where it is awaited (or never, when no audience may see the repository).
  tags.catch(() => undefined);
  const [truth, found] = await Promise.all([readTruth(deps.store, registryId, space, failures), deps.store.catalog.readRepository(registryId, space, path)]);
  if (!found) return;
  if ('unreadable' in found) {
    failures.push({ registryId, space, path, error: `repository item unreadable, its rows withdrawn: ${found.unreadable.error}` });
    await withdrawUnreadable(deps, truth, registryId, space, found.unreadable, false);
    return;
  }
  const { repo } = await withdrawRepository(deps.store, truth, found.repository, false);
  await reindexRepository(deps.store, truth, repo, failures, false, () => tags);
};

/** Removes a removed registry's spaces from the index and the truth, then (once every space went) the registry's tombstone. */
const purgeRegistry = async (deps: IndexerDeps, registryId: string, failures: IndexFailure[]) => {
  const registry = await deps.store.registries.getAny(registryId);
  if (!registry?.deleted) return;
  const before = failures.length;
  for (const space of await deps.store.spaces.listAll(registryId))
    await isolated(failures, { registryId, space: space.name }, () => deriveSpace(deps, registryId, space.name, false, failures));
  // A space left behind keeps the tombstone, so the retried event finds the registry gone and purges again.
  if (failures.length === before) await deps.store.registries.purge(registryId);
};

/** One step of a full repair: `done` of `total` spaces re-derived, then audiences scanned for orphans. */
export type RepairProgress = { phase: 'spaces' | 'audiences'; done: number; total: number };

/**
 * Whether the rule no longer allows a row: its space or registry is gone, or its audience is not one of the
 * space's. When the truth cannot be read, who may see the row cannot be known: it goes (fail closed). Any other
 * error keeps the row and is noted. `truths` caches each space's truth for one scan.
 */
const orphaned = async (deps: IndexerDeps, row: IndexRow, truths: Map<string, Promise<SpaceTruth>>, failures: IndexFailure[]) => {
  const key = `${row.registryId}#${row.space}`;
  const truth = truths.get(key) ?? loadSpace(deps.store, row.registryId, row.space);
  truths.set(key, truth);
  try {
    const t = await truth;
    return !t.live || !t.audiences.includes(row.audience);
  } catch (error) {
    if (error instanceof z.ZodError) return true;
    failures.push({ registryId: row.registryId, space: row.space, path: row.path, audience: row.audience, error: messageOf(error) });
    return false;
  }
};

/**
 * Full repair: re-derives every space of one registry (or of all), deletes rows the rule does not allow (their
 * space is gone, or their audience is not the space's) and rows that cannot be read. Each space and audience is
 * isolated: one that fails is reported in `failed` (and counted on its registry) while the repair goes on with
 * the others. `drift`: the rows it found wrong and fixed (0 when the index was right).
 */
export const repairIndex = async (deps: IndexerDeps, registryId?: string, onProgress?: (p: RepairProgress) => void) => {
  let drift = 0;
  const failed: IndexFailure[] = [];
  const registries = registryId ? [await deps.store.registries.get(registryId)].filter((r) => !!r) : await deps.store.registries.list();
  const spacesOf = async (id: string) => {
    try {
      return (await deps.store.spaces.list(id)).map((s) => ({ registryId: id, name: s.name }));
    } catch (error) {
      failed.push({ registryId: id, error: `spaces unreadable: ${messageOf(error)}` });
      return [];
    }
  };
  const spaces = (await Promise.all(registries.map((r) => spacesOf(r.id)))).flat();
  onProgress?.({ phase: 'spaces', done: 0, total: spaces.length });
  for (const [i, space] of spaces.entries()) {
    drift += await isolated(failed, { registryId: space.registryId, space: space.name }, () => deriveSpace(deps, space.registryId, space.name, true, failed));
    onProgress?.({ phase: 'spaces', done: i + 1, total: spaces.length });
  }
  if (!registryId) {
    const workspaces = await deps.store.tenancy.listWorkspaces().catch((error: unknown) => {
      failed.push({ audience: 'workspace:*', error: `workspaces unreadable: ${messageOf(error)}` });
      return [];
    });
    const audiences = [PUBLIC, ...workspaces.map((w) => workspaceAudience(w.id))];
    for (const [i, audience] of audiences.entries()) {
      onProgress?.({ phase: 'audiences', done: i, total: audiences.length });
      drift += await isolated(failed, { audience }, async () => {
        const { rows, unreadable } = await deps.store.index.audit(audience);
        const orphans: { audience: string; image: string }[] = [...unreadable];
        const truths = new Map<string, Promise<SpaceTruth>>();
        for (const row of rows) if (await orphaned(deps, row, truths, failed)) orphans.push(row);
        await deps.store.index.write([], orphans);
        return orphans.length;
      });
    }
    onProgress?.({ phase: 'audiences', done: audiences.length, total: audiences.length });
  }
  if (failed.length) await recordFailures(deps, failed);
  return { drift, failed };
};

/** The item whose pending mark an event clears once handled. */
const markedItem = (event: BusEvent): Key | undefined => {
  const d = event.detail.data;
  switch (event.detailType) {
    case TagPushed.detailType:
    case TagDeleted.detailType: {
      const t = TagPushed.detailType === event.detailType ? TagPushed.data.parse(d) : TagDeleted.data.parse(d);
      return keys.tag(t.registryId, t.path, t.tag);
    }
    case SpaceCreated.detailType:
    case SpaceVisibilityChanged.detailType:
    case SpaceDeleted.detailType: {
      const s = SpaceDeleted.data.parse(d);
      return keys.space(s.registryId, s.space);
    }
    case SpaceBound.detailType:
    case SpaceUnbound.detailType: {
      const b = SpaceBound.data.parse(d);
      return keys.binding(b.registryId, b.space, b.workspaceId);
    }
    case NamespaceBound.detailType: {
      const n = NamespaceBound.data.parse(d);
      return keys.namespace(n.cluster, n.namespace);
    }
    case RegistryConnected.detailType:
    case RegistryRemoved.detailType:
      return keys.registry(RegistryRemoved.data.parse(d).registryId);
    default:
      return undefined;
  }
};

/**
 * Handles one event (a hint): re-derives the affected part of the index from the truth, then clears the
 * pending mark the event's write set. Duplicated, late or reordered events only cause extra work.
 */
export const handleIndexEvent = async (event: BusEvent, deps: IndexerDeps) => {
  const d = event.detail.data;
  const failures: IndexFailure[] = [];
  let counted = false;
  switch (event.detailType) {
    case TagPushed.detailType:
    case TagDeleted.detailType: {
      const t = TagDeleted.data.parse(d);
      await isolated(failures, { registryId: t.registryId, space: t.space, path: t.path }, () => reindexRepositoryOf(deps, t.registryId, t.space, t.path, failures));
      break;
    }
    case SpaceCreated.detailType:
    case SpaceVisibilityChanged.detailType:
    case SpaceDeleted.detailType:
    case SpaceBound.detailType:
    case SpaceUnbound.detailType: {
      const s = SpaceDeleted.data.parse(d);
      await isolated(failures, { registryId: s.registryId, space: s.space }, () => deriveSpace(deps, s.registryId, s.space, false, failures));
      // The binding's tombstone carries the pending mark: it stays until the space was re-derived whole.
      if (event.detailType === SpaceUnbound.detailType && failures.length === 0) {
        const b = SpaceUnbound.data.parse(d);
        await deps.store.spaces.purgeBinding(b.registryId, b.space, b.workspaceId);
      }
      break;
    }
    case RegistryRemoved.detailType: {
      const { registryId } = RegistryRemoved.data.parse(d);
      await isolated(failures, { registryId }, () => purgeRegistry(deps, registryId, failures));
      break;
    }
    case IndexRepairRequested.detailType:
      failures.push(...(await repairIndex(deps, IndexRepairRequested.data.parse(d).registryId)).failed);
      counted = true;
      break;
    // RegistryConnected, NamespaceBound: nothing to index (a namespace's move is O(1) by design).
  }
  if (failures.length) {
    if (!counted) await recordFailures(deps, failures);
    // Thrown last, once every other part was done: the bus retries, and the pending mark stays for the sweep.
    throw new IndexIncompleteError(failures);
  }
  const item = markedItem(event);
  if (item) await deps.store.pending.clear(item, event.detail.metadata.id);
};
