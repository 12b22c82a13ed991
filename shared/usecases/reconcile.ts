import { IndexRepairRequested, RegistrySyncRequested, SpaceCreated, SpaceDeleted, SpaceVisibilityChanged, type BusEvent } from '../../events/index.ts';
import { Digest, RepositoryName, SpaceName, TagName, splitPath, type Registry, type RegistryStatus, type Space, type WebhookCoverage } from '../domain/model.ts';
import { detailsHold, type TagDetails } from '../domain/image-details.ts';
import { eventTimeProblem } from '../domain/time.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { logger } from '../logger.ts';
import { mapLimit } from '../registries/pool.ts';
import { RegistryCallError, type ListedSpace, type ListingProgress, type RegistryListing, type RegistryTarget } from '../registries/registry-api.ts';
import type { RegistryChange } from '../webhooks/changes.ts';
import { targetOf } from './registry-access.ts';
import { requestReconcileOfPullAccess } from './pull-access.ts';
import { liveSpaceAfterPurge } from './spaces.ts';
import { ensureWebhookCoverage } from './webhook-config.ts';
import { annotateTags, type TagAnnotation } from './tag-details.ts';
import { applyRegistryChanges } from './webhooks.ts';
import { publishOrThrow } from '../events/publisher.ts';

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
  /**
   * Tags whose size, platforms or scan changed while their digest did not (`annotated`); Docker Registry: manifests
   * read for their details (digests the truth had none for: `read`) and how many told some (`found`).
   */
  details?: { annotated: number; read: number; found: number };
  /** Spaces the credentials may not read: left as they are. */
  unreadable?: { name: string; reason: string }[];
  /**
   * What the product did not take, with why: names it cannot take (not a valid space, repository, tag or digest),
   * push times out of bounds, and repositories the registry would not list (their truth is left as it was).
   */
  skipped?: { name: string; reason: string }[];
  coverage?: WebhookCoverage;
  /** Harbor: how many workspaces' robots the pull-access consumer was asked to check, or why none could be. */
  pullAccess?: { checked: number } | { error: string };
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

/** What one reconcile carries from phase to phase; each phase reads it and adds what it found or did. */
type ReconcileRun = {
  registry: Registry;
  deps: Deps;
  ctx: Ctx;
  target: RegistryTarget;
  progress: (p: ReconcileProgress) => void;
  /** Our clock when the run began: a change of ours at or after it is newer than what the listing saw. */
  localStart: number;
  /** The event time of every delete the listing implies: its start in the registry's clock, or ours (see `startRun`). */
  listedAt: number;
  /** The listed spaces the product can take, by name. */
  held: ListedSpace[];
  listed: Map<string, ListedSpace>;
  /** The truth's live spaces, kept current as phases create and delete them. */
  truthSpaces: Map<string, Space>;
  unreadable: { name: string; reason: string }[];
  /** Repositories (paths) and their spaces the registry would not list: their truth is left alone. */
  untrusted: Set<string>;
  untrustedSpaces: Set<string>;
  skipped: { name: string; reason: string }[];
  spaces: NonNullable<ReconcileReport['spaces']>;
  /** Spaces the registry no longer has (phase 2), deleted once empty (phase 4). */
  gone: Space[];
  tags: NonNullable<ReconcileReport['tags']>;
  details: NonNullable<ReconcileReport['details']>;
  coverage?: WebhookCoverage;
  pullAccess?: ReconcileReport['pullAccess'];
};

/** One step of a reconcile after a successful listing. */
type ReconcilePhase = (run: ReconcileRun) => Promise<void>;

/** Logs the report's summary and adds the run's id and duration. */
const finisher = (registryId: string, t0: number) => (report: Omit<ReconcileReport, 'registryId' | 'durationMs'>): ReconcileReport => {
  const full = { registryId, durationMs: Math.round(performance.now() - t0), ...report };
  const { spaces, skipped, unreadable, coverage, ...summary } = full;
  logger.info('reconcile done', { ...summary, spaces, skipped: skipped?.length, unreadable: unreadable?.length, uncovered: coverage?.uncovered.length });
  return full;
};

/** The listing failed: nothing is changed, the registry's health records why (its last success is kept). */
const recordListingFailure = async (deps: Deps, registryId: string, error: RegistryCallError) => {
  const status = statusOf(error);
  await deps.store.registries.recordSync(registryId, { status, at: deps.clock().toISOString(), message: error.message });
  logger.warn('reconcile could not list the registry', { registryId, status, error: error.message });
  return { status, message: error.message };
};

/** What the phases start from: the listing cut to what can be trusted and taken, and the truth's spaces. */
const startRun = async (
  base: Pick<ReconcileRun, 'registry' | 'deps' | 'ctx' | 'target' | 'progress' | 'localStart'>,
  listing: RegistryListing,
): Promise<ReconcileRun> => {
  const { registry, deps, localStart } = base;
  const unreadable = [...listing.unreadable];
  // A repository the registry would not list (alone) is left as the truth has it: never mistaken for deletions.
  const unreadableRepositories = listing.unreadableRepositories ?? [];
  const skipped = [...(listing.skipped ?? []), ...unreadableRepositories.map((r) => ({ name: r.path, reason: `unreadable: ${r.reason}` }))];
  // The listing's start times every delete it applies: a registry clock out of bounds would write tombstones no
  // later push could beat, so ours is used instead (and the skew counted, as for a refused webhook).
  const clockProblem = eventTimeProblem(listing.startedAt, localStart, deps.clockSkewMs);
  if (clockProblem) {
    skipped.push({ name: '(listing time)', reason: `the registry's clock ${clockProblem}; the service's clock was used` });
    await deps.store.registries.countClockSkew(registry.id, new Date(localStart).toISOString(), listing.startedAt);
  }
  // Docker Registry keeps a repository in `_catalog` after its last tag is deleted: such a space holds nothing.
  const held = validListing(listing.spaces, skipped, localStart, deps.clockSkewMs).filter((s) => registry.kind === 'harbor' || s.repositories.some((r) => r.tags.length > 0));
  return {
    ...base,
    listedAt: clockProblem ? Math.floor(localStart / 1000) * 1000 : listing.startedAt,
    held,
    listed: new Map(held.map((s) => [s.name, s])),
    truthSpaces: new Map((await deps.store.spaces.list(registry.id)).map((s) => [s.name, s])),
    unreadable,
    untrusted: new Set(unreadableRepositories.map((r) => r.path)),
    untrustedSpaces: new Set(unreadableRepositories.map((r) => splitPath(r.path).space)),
    skipped,
    spaces: { created: [], deleted: [], visibilityFollowed: [], visibilityRestored: [] },
    gone: [],
    tags: { pushed: 0, deleted: 0 },
    details: { annotated: 0, read: 0, found: 0 },
  };
};

/** The truth's space for listed `s`, created when the truth lacks it. */
const truthOf = async (run: ReconcileRun, s: ListedSpace, events: BusEvent[]): Promise<Space> => {
  const { registry, deps, ctx } = run;
  const found = run.truthSpaces.get(s.name) ?? (await liveSpaceAfterPurge(deps, registry.id, s.name));
  if (found) return found;
  const visibility = registry.kind === 'harbor' ? (s.visibility ?? 'private') : 'public';
  const now = deps.clock().toISOString();
  const space: Space = { registryId: registry.id, name: s.name, visibility, createdAt: now, updatedAt: now };
  const event = newEvent(deps, ctx, SpaceCreated, { registryId: registry.id, space: s.name, visibility });
  if (await deps.store.spaces.create(space, event)) events.push(event), run.spaces.created.push(s.name);
  // Lost a race with a webhook or an admin: theirs is the space.
  const truth = (await deps.store.spaces.getLive(registry.id, s.name)) ?? space;
  run.truthSpaces.set(s.name, truth);
  return truth;
};

/** Harbor visibility that differs: an integrated registry's Harbor wins; a hosted one gets ours written back. */
const followVisibility = async (run: ReconcileRun, s: ListedSpace, truth: Space, events: BusEvent[]) => {
  const { registry, deps, ctx, target } = run;
  const registryId = registry.id;
  // A change of ours made while the listing ran is newer than what the listing saw.
  if (registry.kind !== 'harbor' || !s.visibility || Date.parse(truth.updatedAt) >= run.localStart) return;
  if (truth.visibilityUnconfirmed && truth.visibility === s.visibility) return void (await deps.store.spaces.confirmVisibility(registryId, s.name, s.visibility));
  if (truth.visibility === s.visibility) return;
  // A visibility that only a webhook implied (private, unconfirmed) is never written back: Harbor's is learned.
  if (registry.mode === 'integrated' || truth.visibilityUnconfirmed) {
    const event = newEvent(deps, ctx, SpaceVisibilityChanged, { registryId, space: s.name, visibility: s.visibility, previousVisibility: truth.visibility });
    if (await deps.store.spaces.setVisibility(registryId, s.name, s.visibility, deps.clock().toISOString(), event))
      events.push(event), run.spaces.visibilityFollowed.push(s.name);
    return;
  }
  try {
    await deps.registryApi.setProjectPublic(target, s.name, truth.visibility === 'public');
    run.spaces.visibilityRestored.push(s.name);
    logger.warn('Harbor project visibility drifted; restored ours', { registryId, space: s.name, visibility: truth.visibility });
  } catch (error) {
    if (!(error instanceof RegistryCallError)) throw error;
    logger.warn('Harbor project visibility drifted and could not be restored', { registryId, space: s.name, error: error.message });
  }
};

/** 1. Spaces the registry has: created when the truth lacks them, their visibility followed or restored. */
const followListedSpaces: ReconcilePhase = async (run) => {
  const events: BusEvent[] = [];
  for (const s of run.held) await followVisibility(run, s, await truthOf(run, s, events), events);
  await publish(run.deps, ...events);
};

/** 2. Spaces we hold that the listing lacks: gone, unless Harbor says the project exists or may not tell. */
const findGoneSpaces: ReconcilePhase = async (run) => {
  for (const space of run.truthSpaces.values()) {
    if (run.listed.has(space.name) || run.untrustedSpaces.has(space.name) || run.unreadable.some((u) => u.name === space.name)) continue;
    if (run.registry.kind === 'harbor') {
      const exists = await run.deps.registryApi.projectExists(run.target, space.name);
      if (exists === undefined) run.unreadable.push({ name: space.name, reason: 'the credentials cannot see this project' });
      // `true`: created while the listing ran; the next run lists it.
      if (exists !== false) continue;
    }
    run.gone.push(space);
  }
};

type WantedTag = { digest: string; pushedAt?: number; details?: TagDetails };

/** A tag the truth holds with no size or platforms: a Docker Registry listing then reads its manifest once. */
/** Not read yet: a webhook push tells an image's size, never its platform (`[]` once read and not known). */
const lacksDetails = (t: TagDetails) => t.size === undefined || t.platforms === undefined;

/**
 * The pushes, deletes and annotations that make the truth's tags those of the listing, repository by repository.
 * `unknown`: Docker Registry tags whose digest's details are not known yet (a new digest, or one stored without).
 */
const diffTags = async (run: ReconcileRun) => {
  const { deps, registry, progress, listedAt } = run;
  const wanted = new Map<string, Map<string, WantedTag>>();
  for (const s of run.held) for (const r of s.repositories) wanted.set(r.path, new Map(r.tags.map((t) => [t.tag, t])));
  const inScope = [...run.held.map((s) => s.name), ...run.gone.map((s) => s.name)];
  const truthRepos = new Map(await Promise.all(inScope.map(async (name) => [name, await deps.store.catalog.repositories(registry.id, name)] as const)));
  const known = new Set([...truthRepos.values()].flat().map((r) => r.path));
  const paths = [...new Set([...wanted.keys(), ...known])].filter((p) => !run.untrusted.has(p));
  const pushes: (RegistryChange & { action: 'push' })[] = [];
  const deletes: RegistryChange[] = [];
  const annotations: TagAnnotation[] = [];
  const unknown: TagAnnotation[] = [];
  let compared = 0;
  progress({ phase: 'compare', done: 0, total: paths.length });
  await mapLimit(paths, 8, async (path) => {
    const want = wanted.get(path) ?? new Map<string, WantedTag>();
    // A repository the truth has no item of has no tags to compare (a first reconcile: all of them), so its tags are
    // not read: a tag a webhook is writing meanwhile, ahead of its item, takes the listed push only if it is older.
    const have = new Map((known.has(path) ? await deps.store.catalog.tags(registry.id, path) : []).filter((t) => t.state === 'present').map((t) => [t.tag, t]));
    for (const [tag, { digest, pushedAt, details }] of want) {
      const had = have.get(tag);
      if (had?.digest !== digest) pushes.push({ action: 'push', path, tag, digest, eventTime: pushedAt ?? listedAt, ...(details ? { details } : {}) });
      else if (details && !detailsHold(had, details)) annotations.push({ path, tag, digest, details });
      else if (!details && registry.kind === 'docker-registry' && lacksDetails(had)) unknown.push({ path, tag, digest, details: {} });
    }
    for (const tag of have.keys()) if (!want.has(tag)) deletes.push({ action: 'delete-tag', path, tag, eventTime: listedAt });
    progress({ phase: 'compare', done: ++compared, total: paths.length });
  });
  if (registry.kind === 'docker-registry') await readManifestDetails(run, pushes, unknown, annotations);
  return { pushes, deletes, annotations };
};

/** Manifest GETs in flight at once: a first reconcile of a big registry reads one per distinct digest. */
const DETAILS_CONCURRENCY = 4;

/**
 * Docker Registry: reads the manifest of each digest whose details the truth lacks (once per repository and digest),
 * and puts them on its pushes and annotations. An unchanged registry whose tags have details costs no request; a
 * manifest that cannot be read is left without (tried again next time), never failing the reconcile.
 */
const readManifestDetails = async (run: ReconcileRun, pushes: (RegistryChange & { action: 'push' })[], unknown: TagAnnotation[], annotations: TagAnnotation[]) => {
  const wanted = [...new Set([...pushes.filter((p) => !p.details), ...unknown].map((t) => JSON.stringify([t.path, t.digest])))];
  const found = new Map<string, TagDetails>();
  await mapLimit(wanted, DETAILS_CONCURRENCY, async (key) => {
    const [path = '', digest = ''] = JSON.parse(key) as string[];
    try {
      const details = await run.deps.registryApi.manifestDetails(run.target, path, digest);
      if (details) found.set(key, details);
    } catch (error) {
      if (!(error instanceof RegistryCallError)) throw error;
      run.skipped.push({ name: `${path}@${digest}`, reason: `manifest details not read: ${error.message}` });
    }
  });
  run.details = { ...run.details, read: wanted.length, found: found.size };
  const of = (t: { path: string; digest: string }) => found.get(JSON.stringify([t.path, t.digest]));
  for (const p of pushes) if (!p.details && of(p)) p.details = of(p);
  for (const u of unknown) if (of(u)) annotations.push({ ...u, details: of(u) ?? {} });
};

/** 3. Tags: the listing against the truth, applied through the same conditional writes and events as webhooks. */
const reconcileTags: ReconcilePhase = async (run) => {
  const { pushes, deletes, annotations } = await diffTags(run);
  let applied = 0;
  const total = pushes.length + deletes.length;
  const apply = async (changes: RegistryChange[]) => {
    let count = 0;
    await mapLimit(chunks(changes, CHUNK), 4, async (chunk) => {
      // Not `count += await ...`: that reads `count` before the await and loses the other chunks' counts.
      const result = await applyRegistryChanges(run.registry, chunk, run.deps, run.ctx);
      count += result.applied;
      applied += chunk.length;
      run.progress({ phase: 'apply', done: applied, total });
    });
    return count;
  };
  run.progress({ phase: 'apply', done: 0, total });
  run.tags = { pushed: await apply(pushes), deleted: await apply(deletes) };
  run.details.annotated = await annotateTags(run.registry, annotations, run.deps, run.ctx);
};

/** 4. Gone spaces go once nothing newer than the listing is left in them. */
const deleteGoneSpaces: ReconcilePhase = async (run) => {
  const { registry, deps, ctx } = run;
  const events: BusEvent[] = [];
  for (const space of run.gone) {
    if (Date.parse(space.createdAt) >= run.localStart) continue;
    const repos = await deps.store.catalog.repositories(registry.id, space.name);
    // A Docker Registry space made by an admin holds nothing until the first push: that is not "gone".
    if (registry.kind === 'docker-registry' && repos.length === 0) continue;
    const left = await Promise.all(repos.map(async (r) => (await deps.store.catalog.tags(registry.id, r.path)).some((t) => t.state === 'present')));
    if (left.some(Boolean)) continue;
    const event = newEvent(deps, ctx, SpaceDeleted, { registryId: registry.id, space: space.name });
    if (await deps.store.spaces.markDeleted(registry.id, space.name, deps.clock().toISOString(), event)) {
      events.push(event);
      run.spaces.deleted.push(space.name);
      run.truthSpaces.delete(space.name);
    }
  }
  await publish(deps, ...events);
};

/** 5. Harbor: every space's project carries our webhook policy, or is reported. */
const coverWebhooks: ReconcilePhase = async (run) => {
  if (run.registry.kind === 'harbor') run.coverage = await ensureWebhookCoverage(run.deps, run.registry, [...run.truthSpaces.keys()].sort());
};

/**
 * 6. Harbor: asks the pull-access consumer to check every robot of the registry in Harbor (repairs hand edits,
 * deletes strays, retries refused ones). Robots are written by that consumer only, one at a time.
 */
const checkPullAccess: ReconcilePhase = async (run) => {
  if (run.registry.kind !== 'harbor') return;
  try {
    run.pullAccess = { checked: await requestReconcileOfPullAccess(run.deps, run.ctx, run.registry, run.target) };
  } catch (error) {
    if (!(error instanceof RegistryCallError)) throw error;
    run.pullAccess = { error: error.message };
    logger.warn('reconcile could not list the robots', { registryId: run.registry.id, error: error.message });
  }
};

/** The phases after a successful listing, in order. Each may read what the earlier ones left in the run. */
const PHASES: readonly ReconcilePhase[] = [followListedSpaces, findGoneSpaces, reconcileTags, deleteGoneSpaces, coverWebhooks, checkPullAccess];

/** Records the registry healthy with what the run skipped and covered; the report of a successful run. */
const recordSuccess = async (run: ReconcileRun) => {
  const { registry, deps, skipped, coverage, held } = run;
  const now = deps.clock().toISOString();
  const skippedSummary = { checkedAt: now, count: skipped.length, items: skipped.slice(0, 50) };
  await deps.store.registries.recordSync(registry.id, { status: 'healthy', at: now, lastSuccessAt: now, skipped: skippedSummary, ...(coverage ? { webhookCoverage: coverage } : {}) });
  if (skipped.length) logger.warn('reconcile skipped names it cannot take', { registryId: registry.id, skipped: skipped.slice(0, 20) });
  return {
    status: 'healthy' as const,
    listedAt: new Date(run.listedAt).toISOString(),
    listed: {
      spaces: held.length,
      repositories: held.reduce((n, s) => n + s.repositories.length, 0),
      tags: held.reduce((n, s) => n + s.repositories.reduce((m, r) => m + r.tags.length, 0), 0),
    },
    spaces: run.spaces,
    tags: run.tags,
    details: run.details,
    unreadable: run.unreadable,
    skipped,
    ...(coverage ? { coverage } : {}),
    ...(run.pullAccess ? { pullAccess: run.pullAccess } : {}),
  };
};

/**
 * Reconciles one registry: lists everything it holds, diffs that against the truth and applies the difference
 * through the same conditional writes and events as webhooks (the `PHASES`), then records the registry's health.
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
  const done = finisher(registry.id, performance.now());
  const localStart = deps.clock().getTime();
  const progress = progressOf(registry.id, opts.onProgress);
  const target = await targetOf(deps, registry);
  let listing: RegistryListing;
  try {
    listing = await deps.registryApi.list(target, { onProgress: progress });
  } catch (error) {
    if (!(error instanceof RegistryCallError)) throw error;
    return done(await recordListingFailure(deps, registry.id, error));
  }
  const run = await startRun({ registry, deps, ctx, target, progress, localStart }, listing);
  for (const phase of PHASES) await phase(run);
  return done(await recordSuccess(run));
};

/** Reconciles the registry a sync request names; an admin's request also audits the registry's index afterwards. */
export const handleSyncRequest = async (event: BusEvent, deps: Deps) => {
  const ctx = { correlationId: event.detail.metadata.correlationId, actor: 'reconcile-registry' };
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
  // The schedule must know when the bus refuses (it fails, and runs again): not `publish`.
  await publishOrThrow(deps.bus, requests);
  return { requested: requests.length };
};
