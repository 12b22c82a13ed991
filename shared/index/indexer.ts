import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { BusEvent, EventContract, EventMetadata } from '../../events/contract.ts';
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
  TagDetailsChanged,
  TagPushed,
} from '../../events/index.ts';
import { compactDetails } from '../domain/image-details.ts';
import { imageRef, type Audience, type IndexRow, type Registry, type Repository, type Space, type Tag } from '../domain/model.ts';
import { audiencesOfSpace, PUBLIC, workspaceAudience } from '../domain/rule.ts';
import { isoTime } from '../domain/time.ts';
import type { Deps } from '../deps.ts';
import { logger } from '../logger.ts';
import { metric } from '../metrics.ts';
import { mapLimit } from '../registries/pool.ts';
import type { RepositoryRead, TagRead, UnreadableItem, UnreadableRepository } from '../store/catalog.ts';
import type { Store } from '../store/index.ts';
import type { PendingRef, SpaceWork } from '../store/leases.ts';
import type { BatchItem } from '../events/with-event.ts';

type IndexerDeps = Pick<Deps, 'store' | 'clock'>;

/**
 * A part of a re-derivation that failed, or an item it could not use: logged with the item, counted on the
 * registry (`Registry.indexFailures`) and retried. Never holds up another repository, space or audience.
 */
export type IndexFailure = { registryId?: string; space?: string; path?: string; audience?: string; error: string };

/** What `handleIndexEvent` throws once its event was handled as far as it could be (a batch answers the event failed instead). */
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

/** Logs every failure with its item and counts them on their registries. Never throws: the caller reports the events failed. */
const recordFailures = async (deps: IndexerDeps, failures: readonly IndexFailure[]) => {
  if (!failures.length) return;
  metric('IndexFailures', failures.length);
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
  return { live: true, registry, space, audiences: audiencesOfSpace({ visibility: space.visibility, boundWorkspaces: bindings.map((b) => b.workspaceId), owner: registry.ownerWorkspaceId }) };
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
 * Deletes the repository's rows in audiences the space no longer allows, and every row of an image whose registry
 * moved to another host (an edit with `confirmHostChange`): its reference changed. Reads no tag, so no tag can hold
 * a withdrawal up. Returns the record left and the rows removed.
 */
const withdrawRepository = async (store: Store, truth: SpaceTruth, repo: Repository, audit: boolean) => {
  const allowed: readonly string[] = truth.live ? truth.audiences : [];
  const previous = repo.indexedAudiences ?? [];
  const image = repo.indexedImage;
  const moved = truth.live && image !== imageRef(truth.registry.host, repo.path);
  const gone = moved ? previous : previous.filter((a) => !allowed.includes(a));
  if (!image || gone.length === 0) return { repo, changed: 0 };
  const doomed = audit ? await present(store, image, gone) : gone;
  await store.index.write([], doomed.map((audience) => ({ audience, image })));
  const kept = moved ? [] : previous.filter((a) => allowed.includes(a));
  await store.catalog.recordIndexed(repo, image, kept);
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
  await deps.store.catalog.recordIndexedUnreadable(registryId, space, item.path, image, []);
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
    latestTag: { tag: latest.tag, digest: latest.digest ?? '', pushedAt, ...compactDetails(latest) },
    updatedAt: pushedAt,
  }));
};

/** Clears the marks of changes a re-derivation applied (each only if still the one read: a later change keeps its own). */
const clearMarks = (store: Store, marks: readonly PendingRef[]) => Promise.all(marks.map((m) => store.pending.clear({ pk: m.pk, sk: m.sk }, m.id)));

/**
 * Re-derives one repository's rows from the truth and its usable tags (after `withdrawRepository`), and removes
 * the rows it no longer may have. Unusable tags are left out and noted as failures. Returns how many rows it
 * changed. With `audit`, existing rows are read first so unchanged rows count as no drift. `withdrawRepository` ran
 * first, so `indexedImage` names every row (a moved image's rows are gone). Tags are read when an audience
 * may see the repository, or given (`tagsRead`, a tag change); the marks read with them go to `batch`, cleared
 * after its bump, so coalesced changes need no mark of their own.
 */
const reindexRepository = async (store: Store, truth: SpaceTruth, repo: Repository, failures: IndexFailure[], batch: PathBatch, audit = false, tagsRead?: TagRead): Promise<number> => {
  let read = tagsRead;
  if (!read && truth.live && truth.audiences.length > 0) read = await store.catalog.readTags(repo.registryId, repo.path);
  if (read) failures.push(...unusableTags(repo, read.unusable));
  const changed = await writeRows(store, truth, repo, read?.tags ?? [], audit, batch.bumps);
  // A change whose rows an audit found already written may have been written by a run that died before its bump.
  if (read?.marks.length && truth.live) for (const a of truth.audiences) batch.bumps.add(a);
  // An unusable tag keeps the repository failing, and so every mark with it (retried, then swept).
  if (read && read.unusable.length === 0) batch.marks.push(...read.marks);
  return changed;
};

const writeRows = async (store: Store, truth: SpaceTruth, repo: Repository, tags: readonly Tag[], audit: boolean, bumpLater: Set<string>) => {
  let rows = desiredRows(truth, repo, tags);
  const desired = rows.map((r) => r.audience);
  const previous = repo.indexedAudiences ?? [];
  const image = rows[0]?.image ?? repo.indexedImage;
  if (!image) return 0;
  let stale = previous.filter((a) => !desired.includes(a)).map((audience) => ({ audience, image }));
  // Rows new to their audience get their search postings (`write` deletes a withdrawn row's with it).
  let fresh = rows.filter((r) => !previous.includes(r.audience));
  if (audit) {
    const existing = await Promise.all(rows.map((r) => store.index.get(r.audience, r.image)));
    fresh = rows.filter((r, i) => !previous.includes(r.audience) || !existing[i]);
    rows = rows.filter((r, i) => !sameRow(existing[i], r));
    const held = await present(store, image, stale.map((r) => r.audience));
    stale = stale.filter((r) => held.includes(r.audience));
  }
  // Record a superset first: a crash between the writes must never leave a row the record does not name.
  if (desired.some((a) => !previous.includes(a)))
    await store.catalog.recordIndexed(repo, image, [...new Set([...previous, ...desired])]);
  await store.index.write(rows, stale, fresh, bumpLater);
  if (previous.some((a) => !desired.includes(a))) await store.catalog.recordIndexed(repo, image, desired);
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
const deriveSpace = async (deps: IndexerDeps, registryId: string, name: string, audit: boolean, failures: IndexFailure[], cleared?: Set<string>): Promise<number> => {
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
  const batch: PathBatch = { bumps: new Set(), marks: [] };
  for (const repo of withdrawn)
    changed += await isolated(failures, { registryId, space: name, path: repo.path }, () => reindexRepository(deps.store, truth, repo, failures, batch, audit));
  await settle(deps.store, batch);
  for (const m of batch.marks) cleared?.add(markText(m));
  return changed;
};

const markText = (m: PendingRef) => `${m.pk}\n${m.sk}\n${m.id}`;

/**
 * What the repositories of one batch share: the audiences their rows were put in, bumped once for all of them, and
 * the marks their re-derivations applied, cleared after that bump (a mark never goes before its rows show).
 */
type PathBatch = { bumps: Set<string>; marks: PendingRef[] };

/** Ends a batch: its audiences bumped once, then its marks cleared. */
const settle = async (store: Store, batch: PathBatch) => {
  await store.index.bump(batch.bumps);
  await clearMarks(store, batch.marks);
};

/**
 * Re-derives one repository whose tags changed, from its tags read now. When none of them carries a pending mark,
 * every change to them was applied by a re-derivation that read it (a mark goes only after the rows it asked for
 * were written), so there is nothing to do: an event that a whole-space re-derivation already applied costs a read.
 */
const reindexPath = async (deps: IndexerDeps, truth: SpaceTruth, scope: Scope & { path: string }, found: RepositoryRead, failures: IndexFailure[], batch: PathBatch) => {
  const { registryId, space, path } = scope;
  const tags = await deps.store.catalog.readTags(registryId, path);
  if (!found) return void batch.marks.push(...tags.marks);
  if ('unreadable' in found) {
    failures.push({ registryId, space, path, error: `repository item unreadable, its rows withdrawn: ${found.unreadable.error}` });
    return withdrawUnreadable(deps, truth, registryId, space, found.unreadable, false);
  }
  if (tags.marks.length === 0 && tags.unusable.length === 0) return 0;
  const withdrawn = await withdrawRepository(deps.store, truth, found.repository, false);
  return withdrawn.changed + (await reindexRepository(deps.store, truth, withdrawn.repo, failures, batch, false, tags));
};

/** Repositories of one space re-derived at once: they share one read of the truth and touch disjoint rows. */
const PATH_PARALLELISM = 8;

/**
 * Re-derives some repositories of one space from one read of its truth and of their items, each isolated; then
 * bumps the audiences they wrote once and clears the marks they applied. Returns rows changed.
 */
const reindexPaths = async (deps: IndexerDeps, registryId: string, space: string, paths: readonly string[], failures: IndexFailure[]) => {
  const [truth, found] = await Promise.all([readTruth(deps.store, registryId, space, failures), deps.store.catalog.readRepositoriesAt(registryId, space, paths)]);
  const batch: PathBatch = { bumps: new Set(), marks: [] };
  const changed = await mapLimit(paths, PATH_PARALLELISM, (path) =>
    isolated(failures, { registryId, space, path }, () => reindexPath(deps, truth, { registryId, space, path }, found.get(path), failures, batch)),
  );
  await settle(deps.store, batch);
  return changed.reduce((a, b) => a + b, 0);
};

type Scope = { registryId: string; space: string };

/**
 * Applies one batch of a space's work: the whole space (which covers any repository in it), or its repositories.
 * The marks of the space-level events in it are cleared (an unbind's tombstone purged) once the whole space went
 * through without a failure.
 */
const applyWork = async (deps: IndexerDeps, { registryId, space }: Scope, work: SpaceWork, failures: IndexFailure[], audit: boolean) => {
  metric('IndexBatchesApplied', 1);
  metric(work.whole ? 'IndexSpacesRederived' : 'IndexRepositoriesApplied', work.whole ? 1 : work.paths.length);
  if (!work.whole) return isolated(failures, { registryId, space }, () => reindexPaths(deps, registryId, space, work.paths, failures));
  const before = failures.length;
  // Repositories handed over with it: the marks on their tags, read before the space is, are applied by it (even
  // when no audience may see the space, and its re-derivation reads no tag).
  const marks: PendingRef[] = [];
  await isolated(failures, { registryId, space }, async () => {
    marks.push(...(await mapLimit(work.paths, PATH_PARALLELISM, async (path) => (await deps.store.catalog.readTags(registryId, path)).marks)).flat());
  });
  // The marks the re-derivation cleared itself (it read the same tags again) are not cleared twice.
  const cleared = new Set<string>();
  const changed = await isolated(failures, { registryId, space }, () => deriveSpace(deps, registryId, space, audit, failures, cleared));
  if (failures.length === before)
    await Promise.all([
      clearMarks(deps.store, marks.filter((m) => !cleared.has(markText(m)))),
      ...work.marks.map((m) => (m.unbound ? deps.store.spaces.purgeUnbound(registryId, space, m.unbound, m.id) : deps.store.pending.clear({ pk: m.pk, sk: m.sk }, m.id))),
    ]);
  return changed;
};

const merge = (a: SpaceWork, b: SpaceWork): SpaceWork => ({ paths: [...new Set([...a.paths, ...b.paths])], whole: a.whole || b.whole, marks: [...a.marks, ...b.marks] });

/** How long a space's lease lasts unrenewed: a holder that died holds its space no longer than this. */
export const LEASE_MS = 60_000;
const RENEW_MS = LEASE_MS / 4;
/** Repositories handed to a busy holder one by one before the work handed over becomes the whole space. */
const MAX_HANDED_PATHS = 1000;
/**
 * How long a holder goes on taking work handed over (in AWS, `INDEX_HOLD_SECONDS`, within the function's timeout);
 * what is left stays in the lease for the next holder (the next event, or the sweep of the marks it carries).
 */
const holdMs = () => Number(process.env.INDEX_HOLD_SECONDS ?? '') * 1000 || Number.POSITIVE_INFINITY;

/**
 * Applies `work` to one space under its lease (`SpaceLeases`): when another worker holds the space, the work is
 * handed to it and this answers undefined; else this worker holds the space, applies its work and then whatever
 * is handed over meanwhile (events for one space coalesce: twenty thousand tag events of a reconcile become a few
 * batches), and gives the lease up. Serial per space, parallel across spaces. Returns the rows changed.
 */
const underLease = async (deps: IndexerDeps, scope: Scope, work: SpaceWork, failures: IndexFailure[], audit = false, holdFor = holdMs()): Promise<number | undefined> => {
  const { leases } = deps.store;
  const { registryId, space } = scope;
  const owner = randomUUID();
  const now = () => deps.clock().getTime();
  let mine: SpaceWork | false = false;
  for (let attempt = 0; !mine; attempt++) {
    mine = await leases.acquire(registryId, space, owner, now(), LEASE_MS);
    if (mine) mine = merge(work, mine);
    else if (await leases.handOff(registryId, space, work, now(), MAX_HANDED_PATHS)) return void metric('IndexEventsCoalesced', 1);
    else if (attempt >= 20) throw new Error(`the index lease of space ${space} was neither free nor held 20 times in a row`);
  }
  const started = now();
  let lost = false;
  // Until when this holder knows its lease holds (from its own last acquire, renewal or take).
  let heldUntil = started + LEASE_MS;
  const renewal = setInterval(() => {
    const at = now();
    leases
      .renew(registryId, space, owner, at, LEASE_MS)
      .then((held) => void (held ? (heldUntil = at + LEASE_MS) : (lost = true)))
      .catch((error: unknown) => logger.warn('index lease not renewed', { registryId, space, error: messageOf(error) }));
  }, RENEW_MS);
  renewal.unref();
  const fenced = fence(deps, () => now() < heldUntil - FENCE_MS);
  const applied = appliedCounter(deps);
  let changed = 0;
  try {
    for (let next: SpaceWork | undefined = mine; next; ) {
      changed += await applyWork(fenced, scope, next, failures, audit);
      await applied.add(next.paths.length);
      // Lost (it ran out while this worker was stalled): the new holder has the space, and whatever was handed over.
      if (lost) {
        logger.warn('index lease lost while held: its new holder goes on', { registryId, space });
        break;
      }
      if (now() - started >= holdFor) {
        // What was handed over meanwhile stays for the next holder (the next event, or the sweep of its marks).
        if (!(await leases.release(registryId, space, owner))) await leases.abandon(registryId, space, owner);
        break;
      }
      const at = now();
      next = await leases.take(registryId, space, owner, at, LEASE_MS);
      heldUntil = at + LEASE_MS;
    }
    return changed;
  } catch (error) {
    await leases.abandon(registryId, space, owner).catch(() => undefined);
    throw error;
  } finally {
    clearInterval(renewal);
    await applied.flush();
  }
};

/** How often a holder records what it applied at most (`IndexStatus`: one item every holder adds to). */
const RECORD_APPLIED_MS = 1000;

/** A holder's count of what it applied, recorded at most every `RECORD_APPLIED_MS` and once at the end. */
const appliedCounter = (deps: IndexerDeps) => {
  let batches = 0;
  let repositories = 0;
  let recordedAt = deps.clock().getTime();
  const flush = async () => {
    if (!batches) return;
    const [b, r] = [batches, repositories];
    [batches, repositories, recordedAt] = [0, 0, deps.clock().getTime()];
    await deps.store.indexStatus.recordApplied(deps.clock().toISOString(), r, b).catch((error: unknown) => logger.warn('index status not recorded', { error: messageOf(error) }));
  };
  return {
    flush,
    add: async (paths: number) => {
      batches += 1;
      repositories += paths;
      if (deps.clock().getTime() - recordedAt >= RECORD_APPLIED_MS) await flush();
    },
  };
};

/**
 * A holder writes rows and records only while its own clock says its lease holds for `FENCE_MS` more, and checks
 * again once its rows are written: a holder stalled past its lease (renewals failing, a throttled write, a pause)
 * fails instead of racing the next holder, and takes back the rows it wrote, so a row the next holder withdrew is
 * never left behind. The failure is retried like any other. Holds while the workers' clocks differ by less than this.
 */
const FENCE_MS = 20_000;

export class LeaseLostError extends Error {}

/** `deps` whose index writes and repository records fail once `held` says the lease may have run out. */
const fence = (deps: IndexerDeps, held: () => boolean): IndexerDeps => {
  const lost = () => new LeaseLostError('the index lease of this space may have run out: its next holder re-derives it');
  const guard =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A) => {
      if (!held()) throw lost();
      return write(...args);
    };
  const { store } = deps;
  return {
    ...deps,
    store: {
      ...store,
      index: {
        ...store.index,
        write: async (puts, deletes, fresh, bumpLater) => {
          if (!held()) throw lost();
          await store.index.write(puts, deletes, fresh, bumpLater);
          // Stalled past the lease during the write: the next holder may have withdrawn these rows meanwhile, so
          // they go again; the retry of this work writes back what the truth allows.
          if (!held()) {
            await store.index.write([], puts);
            throw lost();
          }
        },
      },
      catalog: {
        ...store.catalog,
        recordIndexed: guard(store.catalog.recordIndexed),
        recordIndexedUnreadable: guard(store.catalog.recordIndexedUnreadable),
        purgeRepository: guard(store.catalog.purgeRepository),
      },
    },
  };
};

const WHOLE: SpaceWork = { paths: [], whole: true, marks: [] };

/**
 * Re-derives every row of one space, or purges it when the space or its registry is gone, under its lease.
 * Returns rows changed, or undefined when the space's holder was handed the work. Throws `IndexIncompleteError`
 * at the end when a part failed (every other part done, the failures counted).
 */
export const reindexSpace = async (deps: IndexerDeps, registryId: string, name: string): Promise<number | undefined> => {
  const failures: IndexFailure[] = [];
  // Called on a request's path (a name used again): it applies its own work only, never what others hand over.
  const changed = await underLease(deps, { registryId, space: name }, WHOLE, failures, false, 0);
  if (failures.length) {
    await recordFailures(deps, failures);
    throw new IndexIncompleteError(failures);
  }
  return changed;
};

/**
 * Removes a removed registry's spaces from the index and the truth, then (once every space went) the registry's
 * tombstone. False while a space is left (failed, or handed to its holder): the event's mark stays and is swept.
 */
const purgeRegistry = async (deps: IndexerDeps, registryId: string, failures: IndexFailure[]) => {
  const registry = await deps.store.registries.getAny(registryId);
  if (!registry?.deleted) return true;
  const before = failures.length;
  let handed = false;
  for (const space of await deps.store.spaces.listAll(registryId))
    if ((await underLease(deps, { registryId, space: space.name }, WHOLE, failures)) === undefined) handed = true;
  if (handed || failures.length > before) return false;
  await deps.store.registries.purge(registryId);
  return true;
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
    // Under the space's lease; a space busy meanwhile is re-derived by its holder (and counts no drift here).
    drift += await isolated(failed, { registryId: space.registryId, space: space.name }, async () => (await underLease(deps, { registryId: space.registryId, space: space.name }, WHOLE, failed, true)) ?? 0);
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
        const kept: IndexRow[] = [];
        const truths = new Map<string, Promise<SpaceTruth>>();
        for (const row of rows) ((await orphaned(deps, row, truths, failed)) ? orphans : kept).push(row);
        // A row whose search postings were lost (a crash between its writes) gets them back.
        const lost = await deps.store.index.missingPostings(kept);
        await deps.store.index.write([], orphans, lost);
        return orphans.length + lost.length;
      });
    }
    onProgress?.({ phase: 'audiences', done: audiences.length, total: audiences.length });
  }
  if (failed.length) await recordFailures(deps, failed);
  return { drift, failed };
};

/** An event's own pending mark: the item its write set, named in the event (or, for older events, by its contract). */
const ownMark = <T extends z.ZodType>(contract: EventContract<T>, data: z.infer<T>, meta: EventMetadata): PendingRef | undefined => {
  const key = meta.mark ?? contract.marked?.(data);
  return key ? { pk: key.pk, sk: key.sk, id: meta.id } : undefined;
};

const clearOwnMark = async (deps: IndexerDeps, mark: PendingRef | undefined) => {
  if (mark) await deps.store.pending.clear({ pk: mark.pk, sk: mark.sk }, mark.id);
};

/** Work on one space that an event asks for: events of one space in a batch merge into one re-derivation. */
type ScopedWork = { scope: Scope; work: SpaceWork };
type IndexHandler<T extends z.ZodType> = (data: z.infer<T>, mark: PendingRef | undefined, deps: IndexerDeps, failures: IndexFailure[]) => Promise<unknown>;
/** What the indexer does with an event: the space work it asks for (applied under the space's lease), or a handler. */
type IndexEntry = { contract: EventContract } & (
  | { work: (data: unknown, mark: PendingRef | undefined) => ScopedWork }
  | { handle: IndexHandler<z.ZodType> }
);
const on = <T extends z.ZodType>(contract: EventContract<T>, handle: IndexHandler<T>): IndexEntry => ({ contract, handle: handle as IndexHandler<z.ZodType> });
const onWork = <T extends z.ZodType>(contract: EventContract<T>, work: (data: z.infer<T>, mark: PendingRef | undefined) => ScopedWork): IndexEntry => ({
  contract,
  work: work as (data: unknown, mark: PendingRef | undefined) => ScopedWork,
});

/**
 * A change to a space's truth: the whole space is re-derived, and the event's mark is cleared (an unbind's
 * tombstone purged) by whoever applies it, this worker or the holder it was handed to.
 */
const spaceWork =
  (unbind = false) =>
  (s: { registryId: string; space: string; workspaceId?: string }, mark: PendingRef | undefined): ScopedWork => ({
    scope: { registryId: s.registryId, space: s.space },
    work: { paths: [], whole: true, marks: mark ? [{ ...mark, ...(unbind && s.workspaceId ? { unbound: s.workspaceId } : {}) }] : [] },
  });

/** A tag change: its repository is re-derived; the tag's mark is cleared from the tag read. */
const tagWork = (t: { registryId: string; space: string; path: string }): ScopedWork => ({
  scope: { registryId: t.registryId, space: t.space },
  work: { paths: [t.path], whole: false, marks: [] },
});

/** What the indexer does with each event it takes; the index rule (`shared/topology.ts`) routes exactly these. */
const INDEX_HANDLERS: readonly IndexEntry[] = [
  onWork(TagPushed, tagWork),
  onWork(TagDeleted, tagWork),
  onWork(TagDetailsChanged, tagWork),
  onWork(SpaceCreated, spaceWork()),
  onWork(SpaceVisibilityChanged, spaceWork()),
  onWork(SpaceDeleted, spaceWork()),
  onWork(SpaceBound, spaceWork()),
  onWork(SpaceUnbound, spaceWork(true)),
  on(RegistryRemoved, async ({ registryId }, mark, deps, failures) => {
    const before = failures.length;
    const done = await isolated(failures, { registryId }, async () => ((await purgeRegistry(deps, registryId, failures)) ? 1 : 0));
    // While a space is left, the mark stays: the sweep re-emits the removal.
    if (done && failures.length === before) await clearOwnMark(deps, mark);
  }),
  // Nothing to index: a namespace's move is O(1) by design, a registry's first space arrives with its own event.
  on(RegistryConnected, (_r, mark, deps) => clearOwnMark(deps, mark)),
  on(NamespaceBound, (_n, mark, deps) => clearOwnMark(deps, mark)),
  // A host change carries its mark (every image reference moved): it goes once the whole repair went through.
  on(IndexRepairRequested, async ({ registryId }, mark, deps, failures) => {
    const { failed } = await repairIndex(deps, registryId);
    failures.push(...failed);
    if (failed.length === 0) await clearOwnMark(deps, mark);
  }),
];

/** The detail types the indexer takes (the index rule's). */
export const INDEXED_DETAIL_TYPES = INDEX_HANDLERS.map((h) => h.contract.detailType);

/**
 * How a part of a batch went: its events (a tag event with its repository's path), the failures it noted, or the
 * error that stopped it.
 */
type Outcome = { items: { itemId: string; path?: string }[]; failures: IndexFailure[]; error?: unknown; repair?: true };

const outcomeOf = async (items: Outcome['items'], run: (failures: IndexFailure[]) => Promise<unknown>, repair?: true): Promise<Outcome> => {
  const failures: IndexFailure[] = [];
  try {
    await run(failures);
    return { items, failures, ...(repair ? { repair } : {}) };
  } catch (error) {
    return { items, failures, error };
  }
};

/**
 * The events of an outcome that did not go through: all of them when it stopped; else a tag event when a failure
 * names its repository or none, a space event (the whole space) on any failure.
 */
const failedOf = (o: Outcome) => {
  if (o.error) return o.items;
  return o.failures.length ? o.items.filter((i) => i.path === undefined || o.failures.some((f) => f.path === undefined || f.path === i.path)) : [];
};

/**
 * Applies a batch of events (hints): the tag and space events of one space merge into one piece of work, applied
 * under the space's lease; every other event is handled on its own; all of them at once (a repair or a removal
 * never waits for a busy space's holder). Each re-derives its part of the index from the truth and clears the
 * pending marks of what it applied; duplicated, late or reordered events only cause extra work. A part that
 * failed fails only its own events (their marks stay for the sweep); its failures are counted on their registries.
 */
const applyBatch = async (items: readonly BatchItem[], deps: IndexerDeps): Promise<Outcome[]> => {
  const spaces = new Map<string, ScopedWork & { items: Outcome['items'] }>();
  const parts: Promise<Outcome>[] = [];
  for (const { itemId, event } of items) {
    const entry = INDEX_HANDLERS.find((h) => h.contract.detailType === event.detailType);
    if (!entry) continue;
    const read = readEvent(entry, event);
    if ('error' in read) {
      parts.push(Promise.resolve({ items: [{ itemId }], failures: [], error: read.error }));
      continue;
    }
    const { data, mark } = read;
    if ('handle' in entry) {
      parts.push(outcomeOf([{ itemId }], (failures) => entry.handle(data, mark, deps, failures), entry.contract === IndexRepairRequested ? true : undefined));
      continue;
    }
    const { scope, work } = entry.work(data, mark);
    const key = `${scope.registryId}\n${scope.space}`;
    const item = { itemId, ...(work.whole ? {} : { path: work.paths[0] }) };
    const same = spaces.get(key);
    spaces.set(key, same ? { scope, work: merge(same.work, work), items: [...same.items, item] } : { scope, work, items: [item] });
  }
  for (const s of spaces.values()) parts.push(outcomeOf(s.items, (failures) => underLease(deps, s.scope, s.work, failures)));
  const outcomes = await Promise.all(parts);
  // A repair counted its own.
  await recordFailures(deps, outcomes.filter((o) => !o.repair).flatMap((o) => o.failures));
  for (const o of outcomes) if (o.error) logger.warn('index events not applied; they are retried', { events: o.items.length, error: messageOf(o.error) });
  return outcomes;
};

/** An event's data checked against its contract, and its own mark; or why it cannot be used. */
const readEvent = (entry: IndexEntry, event: BusEvent): { data: unknown; mark: PendingRef | undefined } | { error: unknown } => {
  try {
    const data: unknown = entry.contract.data.parse(event.detail.data);
    return { data, mark: ownMark(entry.contract, data, event.detail.metadata) };
  } catch (error) {
    return { error };
  }
};

/** Applies a batch (the index rule's `batchSize`); answers the ids of the events that failed, which alone are retried. */
export const handleIndexEvents = async (items: readonly BatchItem[], deps: IndexerDeps): Promise<string[]> =>
  (await applyBatch(items, deps)).flatMap((o) => failedOf(o).map((i) => i.itemId));

/** Applies one event; throws what stopped it, or `IndexIncompleteError` when a part failed (so the caller retries). */
export const handleIndexEvent = async (event: BusEvent, deps: IndexerDeps) => {
  for (const o of await applyBatch([{ itemId: event.detail.metadata.id, event }], deps)) {
    if (o.error) throw o.error;
    if (o.failures.length) throw new IndexIncompleteError(o.failures);
  }
};
