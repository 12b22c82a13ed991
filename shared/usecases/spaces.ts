import * as z from 'zod';
import { SpaceBound, SpaceCreated, SpaceDeleted, SpaceUnbound, SpaceVisibilityChanged } from '../../events/index.ts';
import { SpaceName, Visibility, type Registry, type Space } from '../domain/model.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { reindexSpace } from '../index/indexer.ts';
import { upstream } from '../registries/registry-api.ts';
import { getRegistryOrThrow, targetOf } from './registry-access.ts';
import { coverNewSpace } from './webhook-config.ts';

export const CreateSpaceInput = z.strictObject({ name: SpaceName, visibility: Visibility });
export const UpdateSpaceInput = z.strictObject({ visibility: Visibility });

export const spaceView = (s: Space) => ({
  registryId: s.registryId,
  name: s.name,
  visibility: s.visibility,
  ...(s.visibilityUnconfirmed ? { visibilityUnconfirmed: true } : {}),
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

const alwaysPublic = (registry: Registry) =>
  badRequest(`spaces of Docker Registry ${registry.id} are always public`, { registryId: registry.id });

const getSpaceOrThrow = async (deps: Deps, registryId: string, name: string) => {
  const space = await deps.store.spaces.getLive(registryId, name);
  if (!space) throw notFound(`space ${name} not found in registry ${registryId}`);
  return space;
};

/** How long a use of a deleted space's name waits for the indexer's holder to purge it (then 409). */
const PURGE_WAIT_MS = 5000;
const PURGE_POLL_MS = 25;

/**
 * The live space of that name, if any. A deleted space's tombstone is purged first (with the tags it left),
 * so a name used again always starts empty, whether or not the indexer got to it yet.
 */
export const liveSpaceAfterPurge = async (deps: Deps, registryId: string, name: string) => {
  const existing = await deps.store.spaces.get(registryId, name);
  if (!existing?.deleted) return existing;
  // The indexer may hold the space right now: then its holder purges the tombstone, and the name is free once it did.
  if ((await reindexSpace(deps, registryId, name)) === undefined)
    for (let waited = 0; (await deps.store.spaces.get(registryId, name))?.deleted; waited += PURGE_POLL_MS) {
      if (waited >= PURGE_WAIT_MS) throw conflict(`space ${name} is still being removed; try again in a few seconds`);
      await new Promise((r) => setTimeout(r, PURGE_POLL_MS));
    }
  return undefined;
};

/** Creates a space: on Harbor the project is created (or adopted) first, and nothing is stored if Harbor refuses. */
export const createSpace = async (registryId: string, input: z.infer<typeof CreateSpaceInput>, deps: Deps, ctx: Ctx) => {
  const registry = await getRegistryOrThrow(deps, registryId);
  if (registry.kind === 'docker-registry' && input.visibility === 'private') throw alwaysPublic(registry);
  if (await liveSpaceAfterPurge(deps, registryId, input.name)) throw conflict(`space ${input.name} already exists`);
  if (registry.kind === 'harbor') {
    const target = await targetOf(deps, registry);
    const outcome = await upstream('Harbor did not create the project', () =>
      deps.registryApi.createProject(target, input.name, input.visibility === 'public'),
    );
    // Harbor already had it: adopt it with the visibility asked for.
    if (outcome === 'existed')
      await upstream('Harbor did not update the project', () =>
        deps.registryApi.setProjectPublic(target, input.name, input.visibility === 'public'),
      );
  }
  const now = deps.clock().toISOString();
  const space: Space = { registryId, name: input.name, visibility: input.visibility, createdAt: now, updatedAt: now };
  const event = newEvent(deps, ctx, SpaceCreated, { registryId, space: input.name, visibility: input.visibility });
  if (!(await deps.store.spaces.create(space, event))) {
    // A reconcile may have imported the project we just created, with the visibility we just gave it.
    const adopted = await deps.store.spaces.getLive(registryId, input.name);
    if (adopted?.visibility !== input.visibility) throw conflict(`space ${input.name} already exists`);
    return spaceView(adopted);
  }
  await publish(deps, event);
  await coverNewSpace(deps, registry, input.name);
  return spaceView(space);
};

export const listSpaces = async (registryId: string, deps: Deps) => {
  await getRegistryOrThrow(deps, registryId);
  return { items: (await deps.store.spaces.list(registryId)).map(spaceView) };
};

export const getSpace = async (registryId: string, name: string, deps: Deps) => {
  await getRegistryOrThrow(deps, registryId);
  return spaceView(await getSpaceOrThrow(deps, registryId, name));
};

/** Changes visibility; on Harbor only after the project's `metadata.public` was updated. */
export const updateSpace = async (registryId: string, name: string, input: z.infer<typeof UpdateSpaceInput>, deps: Deps, ctx: Ctx) => {
  const registry = await getRegistryOrThrow(deps, registryId);
  if (registry.kind === 'docker-registry' && input.visibility === 'private') throw alwaysPublic(registry);
  const space = await getSpaceOrThrow(deps, registryId, name);
  if (registry.kind === 'harbor') {
    const target = await targetOf(deps, registry);
    await upstream('Harbor did not update the project', () => deps.registryApi.setProjectPublic(target, name, input.visibility === 'public'));
  }
  // An unconfirmed space goes through the write anyway: the admin's word confirms it (and outranks a running reconcile).
  if (space.visibility === input.visibility && !space.visibilityUnconfirmed) return spaceView(space);
  const now = deps.clock().toISOString();
  const event = newEvent(deps, ctx, SpaceVisibilityChanged, { registryId, space: name, visibility: input.visibility, previousVisibility: space.visibility });
  if (!(await deps.store.spaces.setVisibility(registryId, name, input.visibility, now, event))) throw notFound(`space ${name} not found`);
  await publish(deps, event);
  return spaceView({ ...space, visibility: input.visibility, updatedAt: now, visibilityUnconfirmed: false });
};

/** Deletes a space (the Harbor project first); the indexer then removes its images from every selector. */
export const deleteSpace = async (registryId: string, name: string, deps: Deps, ctx: Ctx) => {
  const registry = await getRegistryOrThrow(deps, registryId);
  await getSpaceOrThrow(deps, registryId, name);
  if (registry.kind === 'harbor') {
    const target = await targetOf(deps, registry);
    await upstream('Harbor did not delete the project', () => deps.registryApi.deleteProject(target, name));
  }
  const event = newEvent(deps, ctx, SpaceDeleted, { registryId, space: name });
  if (!(await deps.store.spaces.markDeleted(registryId, name, deps.clock().toISOString(), event))) throw notFound(`space ${name} not found`);
  await publish(deps, event);
};

const bindingTargets = async (deps: Deps, registryId: string, space: string, workspaceId: string) => {
  const registry = await getRegistryOrThrow(deps, registryId);
  await getSpaceOrThrow(deps, registryId, space);
  if (!(await deps.store.tenancy.getWorkspace(workspaceId))) throw notFound(`workspace ${workspaceId} not found`);
  return registry;
};

/**
 * Binds a space to a workspace (idempotent). A workspace-owned registry's spaces take no binding: they are offered to
 * their owner only (a binding would say otherwise, and would grant if ownership were ever lifted).
 */
export const bindSpace = async (registryId: string, space: string, workspaceId: string, deps: Deps, ctx: Ctx) => {
  const registry = await bindingTargets(deps, registryId, space, workspaceId);
  if (registry.ownerWorkspaceId)
    throw conflict(`registry ${registryId} is owned by workspace ${registry.ownerWorkspaceId}: its spaces are offered to that workspace only and take no bindings`, {
      ownerWorkspaceId: registry.ownerWorkspaceId,
    });
  const event = newEvent(deps, ctx, SpaceBound, { registryId, space, workspaceId });
  const binding = { registryId, space, workspaceId, createdAt: deps.clock().toISOString() };
  if (await deps.store.spaces.bind(binding, event)) await publish(deps, event);
};

/** Unbinds (idempotent). */
export const unbindSpace = async (registryId: string, space: string, workspaceId: string, deps: Deps, ctx: Ctx) => {
  await bindingTargets(deps, registryId, space, workspaceId);
  const event = newEvent(deps, ctx, SpaceUnbound, { registryId, space, workspaceId });
  if (await deps.store.spaces.unbind(registryId, space, workspaceId, event)) await publish(deps, event);
};

export const listBindings = async (registryId: string, space: string, deps: Deps) => {
  await getRegistryOrThrow(deps, registryId);
  await getSpaceOrThrow(deps, registryId, space);
  return { items: (await deps.store.spaces.bindings(registryId, space)).map((b) => ({ workspaceId: b.workspaceId, createdAt: b.createdAt })) };
};
