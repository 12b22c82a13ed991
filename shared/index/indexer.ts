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
import type { Deps } from '../deps.ts';
import { keys, type Key } from '../store/keys.ts';
import type { Store } from '../store/index.ts';

type IndexerDeps = Pick<Deps, 'store'>;

/** What the truth says about one space right now. */
type SpaceTruth =
  | { live: true; registry: Registry; space: Space; audiences: Audience[] }
  | { live: false; registry?: Registry; space?: Space };

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

const sameRow = (a: IndexRow | undefined, b: IndexRow) => !!a && JSON.stringify(a) === JSON.stringify(b);

/** The rows the truth asks for: one per audience that may see the repository, none once no tag is left. */
const desiredRows = async (store: Store, truth: SpaceTruth, repo: Repository, known?: Tag[]): Promise<IndexRow[]> => {
  if (!truth.live || truth.audiences.length === 0) return [];
  const tags = (known ?? (await store.catalog.tags(repo.registryId, repo.path))).filter((t) => t.state === 'present');
  let latest = tags[0];
  for (const t of tags) if (latest && (t.eventTime > latest.eventTime || (t.eventTime === latest.eventTime && t.tag > latest.tag))) latest = t;
  if (!latest?.digest) return [];
  const pushedAt = new Date(latest.eventTime).toISOString();
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
 * Re-derives one repository's rows from the truth and removes the rows it no longer may have. Returns how
 * many rows it changed. With `audit`, existing rows are read first so unchanged rows count as no drift.
 * A repository's image never changes (a registry's host is fixed), so `indexedImage` names every row.
 */
const reindexRepository = async (store: Store, truth: SpaceTruth, repo: Repository, audit = false, tags?: Tag[]): Promise<number> => {
  let rows = await desiredRows(store, truth, repo, tags);
  const desired = rows.map((r) => r.audience);
  const previous = repo.indexedAudiences ?? [];
  const image = rows[0]?.image ?? repo.indexedImage;
  if (!image) return 0;
  let stale = previous.filter((a) => !desired.includes(a)).map((audience) => ({ audience, image }));
  if (audit) {
    const existing = await Promise.all(rows.map((r) => store.index.get(r.audience, r.image)));
    rows = rows.filter((r, i) => !sameRow(existing[i], r));
    const present = await Promise.all(stale.map((r) => store.index.get(r.audience, r.image)));
    stale = stale.filter((_, i) => present[i]);
  }
  // Record a superset first: a crash between the writes must never leave a row the record does not name.
  if (desired.some((a) => !previous.includes(a)))
    await store.catalog.recordIndexed(repo.registryId, repo.space, repo.path, image, [...new Set([...previous, ...desired])]);
  await store.index.write(rows, stale);
  if (previous.some((a) => !desired.includes(a)) || desired.some((a) => !previous.includes(a)))
    await store.catalog.recordIndexed(repo.registryId, repo.space, repo.path, image, desired);
  return rows.length + stale.length;
};

/** Removes every trace of a deleted space (or of a space of a removed registry): rows, repositories, tags, bindings, the space. */
const purgeSpace = async (store: Store, truth: SpaceTruth, registryId: string, name: string) => {
  const registryGone = !truth.registry || !!truth.registry.deleted;
  if (!registryGone && !truth.space?.deleted) return;
  // A deleted space's name can be used again (a push or an admin purges the tombstone first and recreates it):
  // stop as soon as the tombstone is gone, so this purge never removes what the new space holds.
  const stillDoomed = async () => registryGone || !!(await store.spaces.get(registryId, name))?.deleted;
  for (const repo of await store.catalog.repositories(registryId, name)) {
    if (!(await stillDoomed())) return;
    await reindexRepository(store, truth, repo);
    await store.catalog.purgeRepository(registryId, name, repo.path);
  }
  if (!(await stillDoomed())) return;
  for (const b of await store.spaces.bindings(registryId, name)) await store.spaces.purgeBinding(registryId, name, b.workspaceId, true);
  await store.spaces.purge(registryId, name, registryGone);
};

/** Re-derives every row of one space, or purges it when the space or its registry is gone. Returns rows changed. */
export const reindexSpace = async (deps: IndexerDeps, registryId: string, name: string, audit = false): Promise<number> => {
  const truth = await loadSpace(deps.store, registryId, name);
  if (!truth.live) {
    await purgeSpace(deps.store, truth, registryId, name);
    return 0;
  }
  let changed = 0;
  for (const repo of await deps.store.catalog.repositories(registryId, name)) changed += await reindexRepository(deps.store, truth, repo, audit);
  return changed;
};

/** Re-derives one repository (after a tag changed). */
const reindexRepositoryOf = async (deps: IndexerDeps, registryId: string, space: string, path: string) => {
  const [truth, repo, tags] = await Promise.all([
    loadSpace(deps.store, registryId, space),
    deps.store.catalog.repository(registryId, space, path),
    deps.store.catalog.tags(registryId, path),
  ]);
  if (repo) await reindexRepository(deps.store, truth, repo, false, tags);
};

/** Removes a removed registry's spaces from the index and the truth, then the registry's tombstone. */
const purgeRegistry = async (deps: IndexerDeps, registryId: string) => {
  const registry = await deps.store.registries.getAny(registryId);
  if (!registry?.deleted) return;
  for (const space of await deps.store.spaces.listAll(registryId)) await reindexSpace(deps, registryId, space.name);
  await deps.store.registries.purge(registryId);
};

/** One step of a full repair: `done` of `total` spaces re-derived, then audiences scanned for orphans. */
export type RepairProgress = { phase: 'spaces' | 'audiences'; done: number; total: number };

/**
 * Full repair: re-derives every space of one registry (or of all) and deletes rows whose space is gone.
 * Returns the drift it found and fixed (0 when the index was right).
 */
export const repairIndex = async (deps: IndexerDeps, registryId?: string, onProgress?: (p: RepairProgress) => void) => {
  let drift = 0;
  const registries = registryId ? [await deps.store.registries.get(registryId)].filter((r) => !!r) : await deps.store.registries.list();
  const spaces = (await Promise.all(registries.map(async (r) => (await deps.store.spaces.list(r.id)).map((s) => ({ registryId: r.id, name: s.name }))))).flat();
  onProgress?.({ phase: 'spaces', done: 0, total: spaces.length });
  for (const [i, space] of spaces.entries()) {
    drift += await reindexSpace(deps, space.registryId, space.name, true);
    onProgress?.({ phase: 'spaces', done: i + 1, total: spaces.length });
  }
  if (!registryId) {
    const audiences = [PUBLIC, ...(await deps.store.tenancy.listWorkspaces()).map((w) => workspaceAudience(w.id))];
    for (const [i, audience] of audiences.entries()) {
      onProgress?.({ phase: 'audiences', done: i, total: audiences.length });
      const orphans: { audience: string; image: string }[] = [];
      for (const row of await deps.store.index.all(audience)) {
        const space = await deps.store.spaces.getLive(row.registryId, row.space);
        if (!space || !(await deps.store.registries.get(row.registryId))) orphans.push(row);
      }
      await deps.store.index.write([], orphans);
      drift += orphans.length;
    }
    onProgress?.({ phase: 'audiences', done: audiences.length, total: audiences.length });
  }
  return { drift };
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
  switch (event.detailType) {
    case TagPushed.detailType:
    case TagDeleted.detailType: {
      const t = TagDeleted.data.parse(d);
      await reindexRepositoryOf(deps, t.registryId, t.space, t.path);
      break;
    }
    case SpaceCreated.detailType:
    case SpaceVisibilityChanged.detailType:
    case SpaceDeleted.detailType:
    case SpaceBound.detailType:
    case SpaceUnbound.detailType: {
      const s = SpaceDeleted.data.parse(d);
      await reindexSpace(deps, s.registryId, s.space);
      if (event.detailType === SpaceUnbound.detailType) {
        const b = SpaceUnbound.data.parse(d);
        await deps.store.spaces.purgeBinding(b.registryId, b.space, b.workspaceId);
      }
      break;
    }
    case RegistryRemoved.detailType:
      await purgeRegistry(deps, RegistryRemoved.data.parse(d).registryId);
      break;
    case IndexRepairRequested.detailType:
      await repairIndex(deps, IndexRepairRequested.data.parse(d).registryId);
      break;
    // RegistryConnected, NamespaceBound: nothing to index (a namespace's move is O(1) by design).
  }
  const item = markedItem(event);
  if (item) await deps.store.pending.clear(item, event.detail.metadata.id);
};
