import { timingSafeEqual } from 'node:crypto';
import { SpaceCreated, TagDeleted, TagPushed, type BusEvent } from '../../events/index.ts';
import { Digest, RegistryId, RepositoryName, SpaceName, TagName, splitPath, type Registry, type RegistryKind } from '../domain/model.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { badRequest, unauthorized } from '../errors.ts';
import { logger } from '../logger.ts';
import type { RegistryChange } from '../webhooks/changes.ts';
import { hashSecret } from './registries.ts';
import { liveSpaceAfterPurge } from './spaces.ts';

/**
 * Checks `Authorization: Bearer <secret>` in constant time. An unknown registry id answers exactly like a
 * wrong secret, so callers cannot learn which ids exist.
 */
export const authenticateWebhook = async (registryId: string, kind: RegistryKind, authorization: string | undefined, deps: Deps) => {
  const registry = RegistryId.safeParse(registryId).success ? await deps.store.registries.get(registryId) : undefined;
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '';
  const given = Buffer.from(hashSecret(token));
  const expected = Buffer.from(registry?.kind === kind ? registry.webhookSecretHash : hashSecret(`no-such-registry:${token}`));
  if (!registry || given.length !== expected.length || !timingSafeEqual(given, expected) || registry.kind !== kind)
    throw unauthorized('webhook secret is wrong or the registry is unknown');
  return registry;
};

const names = (change: RegistryChange) => {
  const { space, repository } = splitPath(change.path);
  const checked = { space: SpaceName.safeParse(space), repository: RepositoryName.safeParse(repository), path: RepositoryName.safeParse(change.path) };
  if (!checked.space.success || !checked.repository.success || !checked.path.success)
    throw badRequest(`repository ${change.path} is not a valid name`);
  return { space, repository };
};

/**
 * Stores what a registry reported. Each tag write is conditional on the registry's event time (duplicates
 * and late events change nothing); events are published only for writes that changed the truth, and the
 * caller answers 2xx only after this returns, i.e. after every change is durably stored.
 */
export const applyRegistryChanges = async (registry: Registry, changes: readonly RegistryChange[], deps: Deps, ctx: Ctx) => {
  const events: BusEvent[] = [];
  for (const change of changes) {
    const { space, repository } = names(change);
    const ref = { registryId: registry.id, space, repository, path: change.path };
    const known = await liveSpaceAfterPurge(deps, registry.id, space);
    if (change.action === 'push') {
      if (!known) {
        // A push into a space we do not know yet: Harbor tells its visibility; Docker Registry spaces are public.
        const visibility = registry.kind === 'harbor' ? (change.visibility ?? 'private') : 'public';
        const now = deps.clock().toISOString();
        const event = newEvent(deps, ctx, SpaceCreated, { registryId: registry.id, space, visibility });
        if (await deps.store.spaces.create({ registryId: registry.id, name: space, visibility, createdAt: now, updatedAt: now }, event)) events.push(event);
      }
      if (!change.tag) continue;
      const tag = { ...ref, tag: TagName.parse(change.tag), digest: Digest.parse(change.digest), eventTime: change.eventTime };
      const event = newEvent(deps, ctx, TagPushed, tag);
      // Two items, no order between them: both are written before the event is published.
      const [, changed] = await Promise.all([deps.store.catalog.ensureRepository(ref), deps.store.catalog.push(tag, event)]);
      if (changed) events.push(event);
      continue;
    }
    // Nothing to delete in a space we do not hold (reconcile covers what we never saw).
    if (!known) continue;
    await deps.store.catalog.ensureRepository(ref);
    const doomed = new Set(change.tag ? [change.tag] : []);
    if (change.action === 'delete-digest')
      for (const t of await deps.store.catalog.tags(registry.id, change.path)) if (t.state === 'present' && t.digest === change.digest) doomed.add(t.tag);
    for (const name of doomed) {
      const tag = { ...ref, tag: TagName.parse(name), eventTime: change.eventTime };
      const event = newEvent(deps, ctx, TagDeleted, tag);
      if (await deps.store.catalog.delete(tag, event)) events.push(event);
    }
  }
  await publish(deps, ...events);
  const applied = events.filter((e) => e.detailType !== SpaceCreated.detailType).length;
  logger.info('registry changes stored', { registryId: registry.id, received: changes.length, applied });
  return { received: changes.length, applied };
};
