import type { BusEvent } from '../../events/contract.ts';
import { Binding, Space, type Visibility } from '../domain/model.ts';
import { keys } from './keys.ts';
import { pendingMark } from './pending.ts';
import type { TableOps } from './table.ts';
import { setWithMark } from './update-with-mark.ts';

const LIVE = 'attribute_exists(pk) AND attribute_not_exists(deleted)';
const TOMBSTONE = { ConditionExpression: 'deleted = :t', ExpressionAttributeValues: { ':t': true } };

/** Spaces and their workspace bindings. */
export const spacesRepository = (ops: TableOps) => ({
  /** The stored space, tombstone included (`deleted`); use `getLive` for the API's view. */
  get: (registryId: string, name: string) => ops.get(Space, keys.space(registryId, name)),
  getLive: async (registryId: string, name: string) => {
    const space = await ops.get(Space, keys.space(registryId, name));
    return space?.deleted ? undefined : space;
  },
  list: async (registryId: string) => (await ops.queryAll(Space, keys.spacesOfRegistry(registryId))).filter((s) => !s.deleted),
  /** Tombstones included. */
  listAll: (registryId: string) => ops.queryAll(Space, keys.spacesOfRegistry(registryId)),
  /** Creates the space; false if an item (live, or a tombstone not yet purged) exists. */
  create: (space: Space, event: BusEvent) =>
    ops.put(
      { ...keys.space(space.registryId, space.name), entityType: 'Space', ...space, ...pendingMark(event) },
      { ConditionExpression: 'attribute_not_exists(pk)' },
    ),
  /** Sets the visibility, which is then known (no longer `visibilityUnconfirmed`). */
  setVisibility: (registryId: string, name: string, visibility: Visibility, at: string, event: BusEvent) =>
    ops.update(keys.space(registryId, name), setWithMark({ visibility, updatedAt: at }, event, LIVE, { remove: ['visibilityUnconfirmed'] })),
  /** The registry's API confirmed the visibility the space already has: nothing to index. False if it was not unconfirmed. */
  confirmVisibility: (registryId: string, name: string, visibility: Visibility) =>
    ops.update(keys.space(registryId, name), {
      UpdateExpression: 'REMOVE visibilityUnconfirmed',
      ConditionExpression: `${LIVE} AND visibilityUnconfirmed = :t AND visibility = :v`,
      ExpressionAttributeValues: { ':t': true, ':v': visibility },
    }),
  markDeleted: (registryId: string, name: string, at: string, event: BusEvent) =>
    ops.update(keys.space(registryId, name), setWithMark({ deleted: true, updatedAt: at }, event, LIVE)),
  /** Deletes the item: only a tombstone, unless `evenLive` (its registry is gone). */
  purge: (registryId: string, name: string, evenLive = false) =>
    ops.remove(keys.space(registryId, name), evenLive ? undefined : TOMBSTONE),

  /** One live binding, read consistently. */
  binding: async (registryId: string, space: string, workspaceId: string) => {
    const binding = await ops.get(Binding, keys.binding(registryId, space, workspaceId));
    return binding?.deleted ? undefined : binding;
  },
  bindings: async (registryId: string, space: string) =>
    (await ops.queryAll(Binding, keys.bindingsOfSpace(registryId, space))).filter((b) => !b.deleted),
  bindingsOfWorkspace: async (workspaceId: string) =>
    (await ops.queryAll(Binding, { index: 'gsi1', pk: keys.bindingsOfWorkspace(workspaceId).gsi1pk, skPrefix: 'BINDING#' })).filter(
      (b) => !b.deleted,
    ),
  /** Binds; false if already bound (a no-op, nothing to publish). */
  bind: (binding: Binding, event: BusEvent) =>
    ops.put(
      {
        ...keys.binding(binding.registryId, binding.space, binding.workspaceId),
        ...keys.bindingByWorkspace(binding.workspaceId, binding.registryId, binding.space),
        entityType: 'Binding',
        ...binding,
        ...pendingMark(event),
      },
      { ConditionExpression: 'attribute_not_exists(pk) OR deleted = :t', ExpressionAttributeValues: { ':t': true } },
    ),
  /** Unbinds (tombstone until indexed); false if it was not bound. */
  unbind: (registryId: string, space: string, workspaceId: string, event: BusEvent) =>
    ops.update(keys.binding(registryId, space, workspaceId), setWithMark({ deleted: true }, event, LIVE)),
  /** Deletes the item: only a tombstone, unless `evenLive` (its space is gone). */
  purgeBinding: (registryId: string, space: string, workspaceId: string, evenLive = false) =>
    ops.remove(keys.binding(registryId, space, workspaceId), evenLive ? undefined : TOMBSTONE),
  /** Deletes the tombstone an unbind left, once indexed: only while it still carries that unbind's mark. */
  purgeUnbound: (registryId: string, space: string, workspaceId: string, eventId: string) =>
    ops.remove(keys.binding(registryId, space, workspaceId), {
      ConditionExpression: 'deleted = :t AND pendingId = :id',
      ExpressionAttributeValues: { ':t': true, ':id': eventId },
    }),
});
