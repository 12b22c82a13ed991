import { IndexRepairRequested, RegistrySyncRequested, SpaceCreated, SpaceDeleted, SpaceVisibilityChanged, type BusEvent } from '../../events/index.ts';
import { Digest, RepositoryName, SpaceName, TagName, splitPath, type Registry, type RegistryStatus, type Space, type WebhookCoverage } from '../domain/model.ts';
import { eventTimeProblem } from '../domain/time.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { logger } from '../logger.ts';
import { RegistryCallError } from '../registries/harbor-client.ts';
import type { ListedSpace, ListingProgress } from '../registries/listing.ts';
import { mapLimit } from '../registries/pool.ts';
import type { RegistryChange } from '../webhooks/changes.ts';
import { targetOf } from './registries.ts';
import { liveSpaceAfterPurge } from './spaces.ts';
import { ensureWebhookCoverage } from './webhook-config.ts';
import { applyRegistryChanges } from './webhooks.ts';

export type ReconcileProgress = ListingProgress | { phase: 'compare' | 'apply'; done: number; total: number };
export type ReconcileOptions = { onProgress?: (p: ReconcileProgress) => void };

/** What one reconcile found and did. Names are space names; counts are changes that altered the truth. */
export type ReconcileReport = {
  registryId: string;
  status: RegistryStatus;
  /** The registry's refusal or silence, when the listing failed (then nothing was changed). */
  message?: string;
  durationMs: number;
  /** The listing's start in the registry's clock (the event time of every delete it applies). */
  listedAt?: string;
  listed?: { spaces: number; repositories: number; tags: number };
  spaces?: { created: string[]; deleted: string[]; visibilityFollowed: string[]; visibilityRestored: string[] };
  tags?: { pushed: number; deleted: number };
  /** Spaces the credentials may not read: left as they are. */
  unreadable?: { name: string; reason: string }[];
  /**
   * What the product did not take, with why: names it cannot take (not a valid space, repository, tag or digest),
   * push times out of bounds, and repositories the registry would not list (their truth is left as it was).
   */
  skipped?: { name: string; reason: string }[];
  coverage?: WebhookCoverage;
};

const CHUNK = 50;
const statusOf = (error: RegistryCallError): RegistryStatus =>
  error.kind === 'unauthorized' ? 'unauthorized' : error.kind === 'unavailable' ? 'unreachable' : 'unknown';

/** Logs long phases at most every 5 s (and each phase's end), besides handing every step to `onProgress`. */
const progressOf = (registryId: string, onProgress?: (p: ReconcileProgress) => void) => {
  let last = 0;
  return (p: ReconcileProgress) => {
    onProgress?.(p);
    const now = Date.now();
    if (p.done === p.total ? p.total > 0 : now - last >= 5000) {
      last = now;
      logger.info('reconcile progress', { registryId, ...p });
    }
  };
};

/**
 * Keeps what the product can name and order; the rest is reported, never half-applied. A push time out of bounds
 * (see `eventTimeProblem`) is refused as a webhook's would be.
 */
const validListing = (spaces: readonly ListedSpace[], skipped: { name: string; reason: string }[], now: number, skewMs: number) =>
  spaces.flatMap((space) => {
    if (!SpaceName.safeParse(space.name).success) return skipped.push({ name: space.name, reason: 'not a valid space name' }), [];
    const repositories = space.repositories.flatMap((repo) => {
      const { repository } = splitPath(repo.path);
      if (!RepositoryName.safeParse(repo.path).success || !RepositoryName.safeParse(repository).success)
        return skipped.push({ name: repo.path, reason: 'not a valid repository name' }), [];
      const tags = repo.tags.filter((t) => {
        const ok = TagName.safeParse(t.tag).success && Digest.safeParse(t.digest).success;
        if (!ok) return skipped.push({ name: `${repo.path}:${t.tag}`, reason: 'not a valid tag or digest' }), false;
        const time = t.pushedAt === undefined ? undefined : eventTimeProblem(t.pushedAt, now, skewMs);
        if (time) return skipped.push({ name: `${repo.path}:${t.tag}`, reason: `push time ${time}` }), false;
        return true;
      });
      return [{ ...repo, tags }];
    });
    return [{ ...space, repositories }];
  });

const chunks = <T>(items: readonly T[], size: number) => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * Reconciles one registry: lists everything it holds, diffs that against the truth and applies the difference
 * through the same conditional writes and events as webhooks, then records the registry's health.
 *
 * - A tag the registry holds that the truth lacks (or holds with another digest) becomes a push; a present tag
 *   the registry no longer holds becomes a delete. Deletes take the listing's start (registry clock) as event
 *   time, Harbor pushes the tag's own push time, distribution pushes the listing's start: a webhook newer than
 *   the listing still wins, and on equal times a delete wins, as for webhooks.
 * - A space the registry has and the truth lacks is created (Harbor: the project's `metadata.public`;
 *   Docker Registry: public, once it holds a tag). Harbor visibility that differs: an integrated registry's
 *   Harbor wins; a hosted one is governed by this service, so ours is written back to Harbor.
 * - A space gone from the registry (a Harbor project that no longer exists; a Docker Registry space that had
 *   repositories and holds no tag any more) is deleted once no newer push is left in it.
 * - Nothing is changed when the listing fails: the registry is recorded `unreachable`/`unauthorized` with the
 *   reason, and the last success is kept.
 */
export const reconcileRegistry = async (registry: Registry, deps: Deps, ctx: Ctx, opts: ReconcileOptions = {}): Promise<ReconcileReport> => {
  const t0 = performance.now();
  const localStart = deps.clock().getTime();
  const registryId = registry.id;
  const progress = progressOf(registryId, opts.onProgress);
  const target = await targetOf(deps, registry);
  const done = (report: Omit<ReconcileReport, 'registryId' | 'durationMs'>): ReconcileReport => {
    const full = { registryId, durationMs: Math.round(performance.now() - t0), ...report };
    const { spaces, skipped, unreadable, coverage, ...summary } = full;
    logger.info('reconcile done', { ...summary, spaces, skipped: skipped?.length, unreadable: unreadable?.length, uncovered: coverage?.uncovered.length });
    return full;
  };

  let listing;
  try {
    listing = await deps.registryApi.list(target, { onProgress: progress });
  } catch (error) {
    if (!(error instanceof RegistryCallError)) throw error;
    const status = statusOf(error);
    await deps.store.registries.recordSync(registryId, { status, at: deps.clock().toISOString(), message: error.message });
    logger.warn('reconcile could not list the registry', { registryId, status, error: error.message });
    return done({ status, message: error.message });
  }

  const unreadable = [...listing.unreadable];
  // A repository the registry would not list (alone) is left as the truth has it: never mistaken for deletions.
  const unreadableRepositories = listing.unreadableRepositories ?? [];
  const untrusted = new Set(unreadableRepositories.map((r) => r.path));
  const untrustedSpaces = new Set(unreadableRepositories.map((r) => splitPath(r.path).space));
  const skipped = [...(listing.skipped ?? []), ...unreadableRepositories.map((r) => ({ name: r.path, reason: `unreadable: ${r.reason}` }))];
  // The listing's start times every delete it applies: a registry clock out of bounds would write tombstones no
  // later push could beat, so ours is used instead (and the skew counted, as for a refused webhook).
  const clockProblem = eventTimeProblem(listing.startedAt, localStart, deps.clockSkewMs);
  if (clockProblem) {
    skipped.push({ name: '(listing time)', reason: `the registry's clock ${clockProblem}; the service's clock was used` });
    await deps.store.registries.countClockSkew(registryId, new Date(localStart).toISOString(), listing.startedAt);
  }
  const listedAt = clockProblem ? Math.floor(localStart / 1000) * 1000 : listing.startedAt;
  // Docker Registry keeps a repository in `_catalog` after its last tag is deleted: such a space holds nothing.
  const held = validListing(listing.spaces, skipped, localStart, deps.clockSkewMs).filter((s) => registry.kind === 'harbor' || s.repositories.some((r) => r.tags.length > 0));
  const listed = new Map(held.map((s) => [s.name, s]));
  const truthSpaces = new Map((await deps.store.spaces.list(registryId)).map((s) => [s.name, s]));
  const report = {
    created: [] as string[],
    deleted: [] as string[],
    visibilityFollowed: [] as string[],
    visibilityRestored: [] as string[],
  };
  const events: BusEvent[] = [];
  const changedDuringListing = (s: Space) => Date.parse(s.updatedAt) >= localStart;

  // 1. Spaces the registry has.
  for (const s of held) {
    let truth = truthSpaces.get(s.name) ?? (await liveSpaceAfterPurge(deps, registryId, s.name));
    if (!truth) {
      const visibility = registry.kind === 'harbor' ? (s.visibility ?? 'private') : 'public';
      const now = deps.clock().toISOString();
      const space: Space = { registryId, name: s.name, visibility, createdAt: now, updatedAt: now };
      const event = newEvent(deps, ctx, SpaceCreated, { registryId, space: s.name, visibility });
      if (await deps.store.spaces.create(space, event)) events.push(event), report.created.push(s.name);
      // Lost a race with a webhook or an admin: theirs is the space.
      truth = (await deps.store.spaces.getLive(registryId, s.name)) ?? space;
      truthSpaces.set(s.name, truth);
    }
    // A change of ours made while the listing ran is newer than what the listing saw.
    if (registry.kind !== 'harbor' || !s.visibility || changedDuringListing(truth)) continue;
    if (truth.visibilityUnconfirmed && truth.visibility === s.visibility) {
      await deps.store.spaces.confirmVisibility(registryId, s.name, s.visibility);
      continue;
    }
    if (truth.visibility === s.visibility) continue;
    // A visibility that only a webhook implied (private, unconfirmed) is never written back: Harbor's is learned.
    if (registry.mode === 'integrated' || truth.visibilityUnconfirmed) {
      const event = newEvent(deps, ctx, SpaceVisibilityChanged, { registryId, space: s.name, visibility: s.visibility });
      if (await deps.store.spaces.setVisibility(registryId, s.name, s.visibility, deps.clock().toISOString(), event))
        events.push(event), report.visibilityFollowed.push(s.name);
    } else {
      try {
        await deps.registryApi.setProjectPublic(target, s.name, truth.visibility === 'public');
        report.visibilityRestored.push(s.name);
        logger.warn('Harbor project visibility drifted; restored ours', { registryId, space: s.name, visibility: truth.visibility });
      } catch (error) {
        if (!(error instanceof RegistryCallError)) throw error;
        logger.warn('Harbor project visibility drifted and could not be restored', { registryId, space: s.name, error: error.message });
      }
    }
  }
  await publish(deps, ...events.splice(0));

  // 2. Spaces we hold that the listing lacks: gone, unless Harbor says the project exists or may not tell.
  const gone: Space[] = [];
  for (const space of truthSpaces.values()) {
    if (listed.has(space.name) || untrustedSpaces.has(space.name) || unreadable.some((u) => u.name === space.name)) continue;
    if (registry.kind === 'harbor') {
      const exists = await deps.registryApi.projectExists(target, space.name);
      if (exists === undefined) unreadable.push({ name: space.name, reason: 'the credentials cannot see this project' });
      // `true`: created while the listing ran; the next run lists it.
      if (exists !== false) continue;
    }
    gone.push(space);
  }

  // 3. Tags: the listing against the truth, repository by repository.
  const wanted = new Map<string, Map<string, { digest: string; pushedAt?: number }>>();
  for (const s of held) for (const r of s.repositories) wanted.set(r.path, new Map(r.tags.map((t) => [t.tag, t])));
  const inScope = [...held.map((s) => s.name), ...gone.map((s) => s.name)];
  const truthRepos = new Map(await Promise.all(inScope.map(async (name) => [name, await deps.store.catalog.repositories(registryId, name)] as const)));
  const paths = [...new Set([...wanted.keys(), ...[...truthRepos.values()].flat().map((r) => r.path)])].filter((p) => !untrusted.has(p));
  const pushes: RegistryChange[] = [];
  const deletes: RegistryChange[] = [];
  let compared = 0;
  progress({ phase: 'compare', done: 0, total: paths.length });
  await mapLimit(paths, 8, async (path) => {
    const want = wanted.get(path) ?? new Map<string, { digest: string; pushedAt?: number }>();
    const have = new Map((await deps.store.catalog.tags(registryId, path)).filter((t) => t.state === 'present').map((t) => [t.tag, t]));
    for (const [tag, { digest, pushedAt }] of want)
      if (have.get(tag)?.digest !== digest)
        pushes.push({ action: 'push', path, tag, digest, eventTime: pushedAt ?? listedAt });
    for (const tag of have.keys()) if (!want.has(tag)) deletes.push({ action: 'delete-tag', path, tag, eventTime: listedAt });
    progress({ phase: 'compare', done: ++compared, total: paths.length });
  });

  let applied = 0;
  const total = pushes.length + deletes.length;
  const apply = async (changes: RegistryChange[]) => {
    let count = 0;
    await mapLimit(chunks(changes, CHUNK), 4, async (chunk) => {
      // Not `count += await ...`: that reads `count` before the await and loses the other chunks' counts.
      const result = await applyRegistryChanges(registry, chunk, deps, ctx);
      count += result.applied;
      applied += chunk.length;
      progress({ phase: 'apply', done: applied, total });
    });
    return count;
  };
  progress({ phase: 'apply', done: 0, total });
  const tags = { pushed: await apply(pushes), deleted: await apply(deletes) };

  // 4. Gone spaces go once nothing newer than the listing is left in them.
  for (const space of gone) {
    if (Date.parse(space.createdAt) >= localStart) continue;
    const repos = await deps.store.catalog.repositories(registryId, space.name);
    // A Docker Registry space made by an admin holds nothing until the first push: that is not "gone".
    if (registry.kind === 'docker-registry' && repos.length === 0) continue;
    const left = await Promise.all(repos.map(async (r) => (await deps.store.catalog.tags(registryId, r.path)).some((t) => t.state === 'present')));
    if (left.some(Boolean)) continue;
    const event = newEvent(deps, ctx, SpaceDeleted, { registryId, space: space.name });
    if (await deps.store.spaces.markDeleted(registryId, space.name, deps.clock().toISOString(), event)) {
      events.push(event);
      report.deleted.push(space.name);
      truthSpaces.delete(space.name);
    }
  }
  await publish(deps, ...events.splice(0));

  // 5. Harbor: every space's project carries our webhook policy, or is reported.
  const coverage = registry.kind === 'harbor' ? await ensureWebhookCoverage(deps, registry, [...truthSpaces.keys()].sort()) : undefined;
  const now = deps.clock().toISOString();
  const skippedSummary = { checkedAt: now, count: skipped.length, items: skipped.slice(0, 50) };
  await deps.store.registries.recordSync(registryId, { status: 'healthy', at: now, lastSuccessAt: now, skipped: skippedSummary, ...(coverage ? { webhookCoverage: coverage } : {}) });
  if (skipped.length) logger.warn('reconcile skipped names it cannot take', { registryId, skipped: skipped.slice(0, 20) });
  return done({
    status: 'healthy',
    listedAt: new Date(listedAt).toISOString(),
    listed: {
      spaces: held.length,
      repositories: held.reduce((n, s) => n + s.repositories.length, 0),
      tags: held.reduce((n, s) => n + s.repositories.reduce((m, r) => m + r.tags.length, 0), 0),
    },
    spaces: report,
    tags,
    unreadable,
    skipped,
    ...(coverage ? { coverage } : {}),
  });
};

/** Reconciles the registry a sync request names; an admin's request also audits the registry's index afterwards. */
export const handleSyncRequest = async (event: BusEvent, deps: Deps) => {
  const ctx = { correlationId: event.detail.metadata.correlationId };
  const request = RegistrySyncRequested.data.parse(event.detail.data);
  const registry = await deps.store.registries.get(request.registryId);
  if (!registry) return void logger.info('reconcile skipped: registry is gone', { registryId: request.registryId });
  const report = await reconcileRegistry(registry, deps, ctx);
  if (request.reason === 'manual' && report.status === 'healthy') await publish(deps, newEvent(deps, ctx, IndexRepairRequested, { registryId: registry.id }));
};

/** The schedule: one sync request per registry, so each reconcile runs (and fails, and retries) on its own. */
export const requestScheduledSyncs = async (deps: Deps, ctx: Ctx) => {
  const registries = await deps.store.registries.list();
  const requests = registries.map((r) => newEvent(deps, ctx, RegistrySyncRequested, { registryId: r.id, reason: 'schedule' }));
  for (const batch of chunks(requests, 10)) await deps.bus.put(batch);
  return { requested: requests.length };
};
