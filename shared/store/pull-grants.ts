import type { BusEvent } from '../../events/contract.ts';
import { PullGrant } from '../domain/model.ts';
import { keys } from './keys.ts';
import { pendingMark } from './pending.ts';
import type { TableOps } from './table.ts';

const itemOf = (grant: PullGrant) => ({
  ...keys.pullGrant(grant.registryId, grant.workspaceId),
  ...keys.pullGrantByWorkspace(grant.workspaceId, grant.registryId),
  entityType: 'PullGrant',
  ...grant,
});

/** Pull access of workspaces on Harbor registries (see `PullGrant`). */
export const pullGrantsRepository = (ops: TableOps) => ({
  get: (registryId: string, workspaceId: string) => ops.get(PullGrant, keys.pullGrant(registryId, workspaceId)),
  all: () => ops.queryAll(PullGrant, keys.allPullGrants()),
  ofRegistry: (registryId: string) => ops.queryAll(PullGrant, keys.pullGrantsOfRegistry(registryId)),
  /** GSI1: may lag a write by a moment; every answer built from it is consistent with itself (its ETag says what it holds). */
  ofWorkspace: (workspaceId: string) =>
    ops.queryAll(PullGrant, { index: 'gsi1', pk: keys.pullGrantsOfWorkspace(workspaceId).gsi1pk, skPrefix: keys.pullGrantsOfWorkspace(workspaceId).skPrefix }),
  /**
   * Stores the grant together with the pending mark of `event` (a `PullAccessSyncRequested`), in one write: if the
   * process dies before Harbor answered, the sweep re-emits the event and the sync runs again.
   */
  putPending: (grant: PullGrant, event: BusEvent) => ops.put({ ...itemOf(grant), ...pendingMark(event) }),
  /** Stores the outcome of a sync and clears its pending mark (a later mark, from another change, is kept). */
  settle: async (grant: PullGrant, eventId: string) => {
    const stored = await ops.put(itemOf(grant), { ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(pendingId) OR pendingId = :id)', ExpressionAttributeValues: { ':id': eventId } });
    // Another change set its own mark meanwhile: keep it (its sync runs next), record the outcome beside it.
    if (!stored) await ops.update(keys.pullGrant(grant.registryId, grant.workspaceId), outcomeUpdate(grant));
  },
  /** Stores the outcome of a sync that must run again (Harbor is down) and keeps the mark: the sweep re-emits it. */
  keepForRetry: (grant: PullGrant) => ops.update(keys.pullGrant(grant.registryId, grant.workspaceId), outcomeUpdate(grant)),
  /** Forgets the grant (its robot is gone); with `eventId`, only if no other change marked it meanwhile. */
  remove: (registryId: string, workspaceId: string, eventId?: string) =>
    ops.remove(
      keys.pullGrant(registryId, workspaceId),
      eventId === undefined ? undefined : { ConditionExpression: 'attribute_not_exists(pendingId) OR pendingId = :id', ExpressionAttributeValues: { ':id': eventId } },
    ),
});

/** Sets every field of `grant` but leaves the pending mark as it is; never brings back a grant removed meanwhile. */
const outcomeUpdate = (grant: PullGrant) => {
  const item = itemOf(grant);
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(item)
    .filter(([k]) => k !== 'pk' && k !== 'sk')
    .map(([k, v], i) => ((names[`#a${i}`] = k), (values[`:a${i}`] = v), `#a${i} = :a${i}`));
  const removes = (['statusMessage', 'robot', 'rotateRequestedAt', 'syncedAt', 'removal'] as const).filter((k) => grant[k] === undefined).map((k, i) => ((names[`#r${i}`] = k), `#r${i}`));
  return {
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};
