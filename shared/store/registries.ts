import type { BusEvent } from '../../events/contract.ts';
import { Registry, type RegistryStatus, type WebhookCoverage } from '../domain/model.ts';
import { keys } from './keys.ts';
import { pendingMark } from './pending.ts';
import { setWithMark } from './update-with-mark.ts';
import type { TableOps } from './table.ts';

export const registriesRepository = (ops: TableOps) => ({
  /** A live registry; a removed one (tombstone) reads as absent. */
  get: async (id: string) => {
    const registry = await ops.get(Registry, keys.registry(id));
    return registry?.deleted ? undefined : registry;
  },
  /** Including tombstones, for the indexer's purge. */
  getAny: (id: string) => ops.get(Registry, keys.registry(id)),
  list: async () => (await ops.queryAll(Registry, keys.allRegistries())).filter((r) => !r.deleted),
  create: (registry: Registry, event: BusEvent) =>
    ops.put(
      { ...keys.registry(registry.id), entityType: 'Registry', ...registry, ...pendingMark(event) },
      { ConditionExpression: 'attribute_not_exists(pk)' },
    ),
  setStatus: (id: string, status: RegistryStatus, at: string, message?: string) =>
    ops.update(keys.registry(id), {
      UpdateExpression: message ? 'SET #s = :s, statusCheckedAt = :at, statusMessage = :m' : 'SET #s = :s, statusCheckedAt = :at REMOVE statusMessage',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': status, ':at': at, ...(message ? { ':m': message } : {}) },
    }),
  /**
   * Records a reconcile's outcome on a live registry: health always; `lastSuccessAt` and the webhook coverage
   * only when given (a failed run keeps the last success). False when the registry is gone.
   */
  recordSync: (id: string, sync: { status: RegistryStatus; at: string; message?: string; lastSuccessAt?: string; webhookCoverage?: WebhookCoverage }) => {
    const set = ['#s = :s', 'statusCheckedAt = :at'];
    const values: Record<string, unknown> = { ':s': sync.status, ':at': sync.at };
    if (sync.message) set.push('statusMessage = :m'), (values[':m'] = sync.message);
    if (sync.lastSuccessAt) set.push('lastSuccessAt = :ok'), (values[':ok'] = sync.lastSuccessAt);
    if (sync.webhookCoverage) set.push('webhookCoverage = :c'), (values[':c'] = sync.webhookCoverage);
    return ops.update(keys.registry(id), {
      UpdateExpression: `SET ${set.join(', ')}${sync.message ? '' : ' REMOVE statusMessage'}`,
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: values,
    });
  },
  markRemoved: (id: string, event: BusEvent) =>
    ops.update(keys.registry(id), setWithMark({ deleted: true }, event, 'attribute_exists(pk) AND attribute_not_exists(deleted)')),
  purge: (id: string) =>
    ops.remove(keys.registry(id), { ConditionExpression: 'deleted = :t', ExpressionAttributeValues: { ':t': true } }),
});
