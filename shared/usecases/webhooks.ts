import { RegistrySyncRequested, SpaceCreated, TagDeleted, TagPushed, type BusEvent } from '../../events/index.ts';
import { Digest, RegistryId, RepositoryName, SpaceName, TagName, splitPath, type Registry, type RegistryKind } from '../domain/model.ts';
import { compactDetails, TagDetails } from '../domain/image-details.ts';
import { eventTimeProblem } from '../domain/time.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { badRequest, unauthorized } from '../errors.ts';
import { logger } from '../logger.ts';
import { mapLimit } from '../registries/pool.ts';
import type { RegistryChange } from '../webhooks/changes.ts';
import { parseDistributionWebhook } from '../webhooks/distribution-payload.ts';
import { parseHarborWebhook } from '../webhooks/harbor-payload.ts';
import { liveSpaceAfterPurge } from './spaces.ts';
import { applyScanResults } from './tag-details.ts';
import { verifyWebhookToken } from './webhook-secrets.ts';

const refused = () => unauthorized('webhook secret is wrong or the registry is unknown');

/**
 * Checks `Authorization: Bearer <secret>` (see `verifyWebhookToken`). An unknown or malformed registry id answers
 * exactly like a wrong secret, so callers cannot learn which ids exist. Needs only the headers, so the local server
 * runs it before reading a body. `project`: the one Harbor project this delivery may speak for.
 */
export const authenticateWebhook = async (registryId: string, kind: RegistryKind, authorization: string | undefined, deps: Deps) => {
  const registry = RegistryId.safeParse(registryId).success ? await deps.store.registries.get(registryId) : undefined;
  const token = /^Bearer (\S{1,512})$/.exec(authorization ?? '')?.[1];
  const scope = registry && registry.kind === kind && token ? await verifyWebhookToken(deps, registry, token) : undefined;
  if (!registry || !scope) throw refused();
  return { registry, project: scope.project };
};

/** The context of one change's events: the delivery's, with the registry's own operator of that change, if named. */
const ctxOf = (ctx: Ctx, change: RegistryChange): Ctx => (change.operator ? { ...ctx, operator: change.operator } : ctx);

/** A change's names, checked: the space it is in and the repository inside the space. */
const namesOf = (change: RegistryChange) => ({ ...splitPath(change.path), path: change.path });

/** What is wrong with one change (field and reason), or undefined. */
const problemOf = (change: RegistryChange, now: number, skewMs: number): { field: string; reason: string } | undefined => {
  const { space, repository, path } = namesOf(change);
  if (!RepositoryName.safeParse(path).success || !RepositoryName.safeParse(repository).success) return { field: 'path', reason: `repository ${JSON.stringify(path.slice(0, 300))} is not a valid name` };
  if (!SpaceName.safeParse(space).success) return { field: 'path', reason: `space ${JSON.stringify(space.slice(0, 300))} is not a valid name` };
  if (change.tag !== undefined && !TagName.safeParse(change.tag).success) return { field: 'tag', reason: `${JSON.stringify(change.tag.slice(0, 300))} is not a tag` };
  if (change.action !== 'delete-tag' && !Digest.safeParse(change.digest).success) return { field: 'digest', reason: `${JSON.stringify(change.digest.slice(0, 300))} is not a digest` };
  if (change.action === 'push' && change.details && !TagDetails.safeParse(change.details).success) return { field: 'details', reason: 'size, platforms or scan out of bounds' };
  const time = eventTimeProblem(change.eventTime, now, skewMs);
  if (time) return { field: 'eventTime', reason: `event time ${String(change.eventTime)} ${time}` };
  return undefined;
};

/**
 * Checks every change before anything is stored: one bad item refuses the whole request (400 naming its index and
 * field). An event time out of bounds is also counted on the registry's health (`clockSkew`).
 */
export const validateChanges = async (registry: Registry, changes: readonly RegistryChange[], deps: Deps) => {
  const now = deps.clock().getTime();
  for (const [index, change] of changes.entries()) {
    const problem = problemOf(change, now, deps.clockSkewMs);
    if (!problem) continue;
    if (problem.field === 'eventTime') await deps.store.registries.countClockSkew(registry.id, new Date(now).toISOString(), change.eventTime);
    const at = change.at ?? `changes[${index}]`;
    throw badRequest(`${at}: ${problem.reason}; nothing was stored`, { index, at, field: problem.field });
  }
};

/**
 * `ensureRepository` for the changes' repositories, written only for those without a readable item yet: the items
 * of a space's repositories are read at once (one BatchGet per 100), so a delivery of tags to known repositories
 * (most pushes, every reconcile after the first) writes its tags only. Spaces whose changes are all skipped
 * (deletes in a space not held) are not read.
 */
const repositoriesToEnsure = async (registryId: string, changes: readonly RegistryChange[], held: ReadonlyMap<string, boolean>, deps: Deps) => {
  const paths = new Map<string, Set<string>>();
  for (const change of changes) {
    const { space, path } = namesOf(change);
    if (change.action === 'push' ? change.tag : held.get(space)) paths.set(space, (paths.get(space) ?? new Set()).add(path));
  }
  const known = new Set<string>();
  await Promise.all(
    [...paths].map(async ([space, inSpace]) => {
      for (const [path, read] of await deps.store.catalog.readRepositoriesAt(registryId, space, [...inSpace])) if (read && 'repository' in read) known.add(`${space}\n${path}`);
    }),
  );
  return async (ref: { registryId: string; space: string; repository: string; path: string }) => {
    if (!known.has(`${ref.space}\n${ref.path}`)) await deps.store.catalog.ensureRepository(ref);
  };
};

/** Tag writes of one delivery in flight at once (a reconcile chunk or a 100-event webhook is not written one by one). */
const WRITE_PARALLELISM = 8;

/**
 * Stores what a registry reported, all or nothing at validation: every change is checked first. Each tag write is
 * conditional on the registry's event time (duplicates and late events change nothing); events are published only
 * for writes that changed the truth, and the caller answers 2xx only after this returns, i.e. after every change is
 * durably stored. A Harbor space first seen here is private and unconfirmed until a reconcile reads the project's
 * visibility from Harbor's API (asked for at once); a Docker Registry space is public, as all of them are.
 */
export const applyRegistryChanges = async (registry: Registry, changes: readonly RegistryChange[], deps: Deps, ctx: Ctx) => {
  await validateChanges(registry, changes, deps);
  const spaceEvents: BusEvent[] = [];
  let unconfirmed = false;
  // Each space once, in order: a push into a space not held yet creates it (private on Harbor until confirmed).
  const held = new Map<string, boolean>();
  for (const change of changes) {
    const { space } = namesOf(change);
    if (held.get(space)) continue;
    let known = !!(await liveSpaceAfterPurge(deps, registry.id, space));
    if (!known && change.action === 'push') {
      const harbor = registry.kind === 'harbor';
      const now = deps.clock().toISOString();
      const visibility = harbor ? 'private' : 'public';
      const event = newEvent(deps, ctxOf(ctx, change), SpaceCreated, { registryId: registry.id, space, visibility });
      const created = { registryId: registry.id, name: space, visibility, createdAt: now, updatedAt: now, ...(harbor ? { visibilityUnconfirmed: true } : {}) } as const;
      if (await deps.store.spaces.create(created, event)) spaceEvents.push(event), (unconfirmed ||= harbor);
      known = true;
    }
    held.set(space, known);
  }
  const ensureRepository = await repositoriesToEnsure(registry.id, changes, held, deps);
  // Then the tags, a few at a time: each write is conditional on the event time, so their order does not matter.
  const tagEvents = await mapLimit(changes, WRITE_PARALLELISM, async (change): Promise<BusEvent[]> => {
    const { space, repository, path } = namesOf(change);
    const ref = { registryId: registry.id, space, repository, path };
    if (change.action === 'push') {
      if (!change.tag) return [];
      const tag = { ...ref, tag: change.tag, digest: change.digest, eventTime: change.eventTime, ...compactDetails(change.details ?? {}) };
      const event = newEvent(deps, ctxOf(ctx, change), TagPushed, tag);
      // Two items, no order between them: both are written before the event is published.
      const [, changed] = await Promise.all([ensureRepository(ref), deps.store.catalog.push(tag, event)]);
      return changed ? [event] : [];
    }
    // Nothing to delete in a space we do not hold (reconcile covers what we never saw).
    if (!held.get(space)) return [];
    await ensureRepository(ref);
    const doomed = new Set(change.tag ? [change.tag] : []);
    if (change.action === 'delete-digest')
      for (const t of await deps.store.catalog.tags(registry.id, path)) if (t.state === 'present' && t.digest === change.digest) doomed.add(t.tag);
    const events: BusEvent[] = [];
    for (const name of doomed) {
      const tag = { ...ref, tag: name, eventTime: change.eventTime };
      const event = newEvent(deps, ctxOf(ctx, change), TagDeleted, tag);
      if (await deps.store.catalog.delete(tag, event)) events.push(event);
    }
    return events;
  });
  const events = [...spaceEvents, ...tagEvents.flat()];
  // Not a state change, so no pending mark: if it is lost, the scheduled reconcile confirms the space.
  if (unconfirmed) events.push(newEvent(deps, ctx, RegistrySyncRequested, { registryId: registry.id, reason: 'new-space' }));
  await publish(deps, ...events);
  const applied = events.filter((e) => e.detailType === TagPushed.detailType || e.detailType === TagDeleted.detailType).length;
  logger.info('registry changes stored', { registryId: registry.id, received: changes.length, applied });
  return { received: changes.length, applied };
};

/**
 * A delivery from a registry's webhook: authenticated, parsed and checked whole, then stored. A Harbor delivery is
 * taken only for the project whose secret it carries; anything else answers exactly like a wrong secret.
 */
export const receiveWebhook = async (kind: RegistryKind, input: { registryId: string; authorization?: string; body: unknown }, deps: Deps, ctx: Ctx) => {
  const { registry, project } = await authenticateWebhook(input.registryId, kind, input.authorization, deps);
  // The registry acts, whoever's token reached this route.
  const asRegistry: Ctx = { correlationId: ctx.correlationId, actor: `registry:${registry.id}` };
  if (kind === 'docker-registry') return applyRegistryChanges(registry, parseDistributionWebhook(input.body), deps, asRegistry);
  const delivery = parseHarborWebhook(input.body);
  // The space each change lands in, not only what the payload says its project is, must be the token's.
  if (delivery.project !== undefined && delivery.project !== project) throw refused();
  if (delivery.changes.some((c) => splitPath(c.path).space !== project)) throw refused();
  if (delivery.scans) {
    if (delivery.scans.some((s) => splitPath(s.path).space !== project)) throw refused();
    return applyScanResults(registry, delivery.scans, deps, asRegistry);
  }
  return applyRegistryChanges(registry, delivery.changes, deps, asRegistry);
};
