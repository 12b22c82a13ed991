import type { BusEvent } from '../../events/contract.ts';
import { Registry, type RegistryStatus, type WebhookCoverage } from '../domain/model.ts';
import { keys } from './keys.ts';
import { pendingMark } from './pending.ts';
import { setWithMark } from './update-with-mark.ts';
import type { TableOps } from './table.ts';

/**
 * Adds `n` to the counter record `field` of a registry (`{count, ...last}`) and sets its other fields, creating the
 * record at the first count. Reads nothing; another writer may create the record between the two tries, then adding works.
 */
const countOn = async (ops: TableOps, id: string, field: 'clockSkew' | 'indexFailures', n: number, last: Record<string, unknown>) => {
  const names: Record<string, string> = { '#f': field, '#count': 'count' };
  const values: Record<string, unknown> = { ':n': n };
  const sets = Object.entries(last).map(([k, v], i) => ((names[`#k${i}`] = k), (values[`:v${i}`] = v), `#f.#k${i} = :v${i}`));
  const add = () =>
    ops.update(keys.registry(id), {
      UpdateExpression: `SET ${sets.join(', ')} ADD #f.#count :n`,
      ConditionExpression: 'attribute_exists(pk) AND attribute_exists(#f)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  const first = () =>
    ops.update(keys.registry(id), {
      UpdateExpression: 'SET #f = :first',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#f)',
      ExpressionAttributeNames: { '#f': field },
      ExpressionAttributeValues: { ':first': { count: n, ...last } },
    });
  return (await add()) || (await first()) || add();
};

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
  recordSync: (
    id: string,
    sync: { status: RegistryStatus; at: string; message?: string; lastSuccessAt?: string; webhookCoverage?: WebhookCoverage; skipped?: Registry['skipped'] },
  ) => {
    const set = ['#s = :s', 'statusCheckedAt = :at'];
    const values: Record<string, unknown> = { ':s': sync.status, ':at': sync.at };
    if (sync.message) set.push('statusMessage = :m'), (values[':m'] = sync.message);
    if (sync.lastSuccessAt) set.push('lastSuccessAt = :ok'), (values[':ok'] = sync.lastSuccessAt);
    if (sync.webhookCoverage) set.push('webhookCoverage = :c'), (values[':c'] = sync.webhookCoverage);
    if (sync.skipped) set.push('skipped = :sk'), (values[':sk'] = sync.skipped);
    return ops.update(keys.registry(id), {
      UpdateExpression: `SET ${set.join(', ')}${sync.message ? '' : ' REMOVE statusMessage'}`,
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: values,
    });
  },
  /** Counts a delivery refused for its event time (see `Registry.clockSkew`). */
  countClockSkew: (id: string, at: string, eventTime: number) =>
    countOn(ops, id, 'clockSkew', 1, { lastAt: at, lastEventTime: Number.isSafeInteger(eventTime) ? eventTime : 0 }),
  /**
   * Swaps in a new webhook secret: the old one's hash stays accepted until `until`. Conditional on the hash and the
   * sealed item the caller rotated from, so two rotations at once (or a rotation and an edit of the credentials) cannot
   * leave the item and the sealed secrets disagreeing.
   */
  rotateWebhookSecret: (id: string, rotation: { fromHash: string; fromRef: string; secretRef: string; hash: string; until: string }) =>
    ops.update(keys.registry(id), {
      UpdateExpression: 'SET secretRef = :ref, webhookSecretHash = :h, previousWebhookSecretHash = :old, previousWebhookSecretUntil = :until',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted) AND webhookSecretHash = :old AND secretRef = :fromRef',
      ExpressionAttributeValues: { ':ref': rotation.secretRef, ':h': rotation.hash, ':old': rotation.fromHash, ':fromRef': rotation.fromRef, ':until': rotation.until },
    }),
  setPullAccess: (id: string, pullAccess: NonNullable<Registry['pullAccess']>) =>
    ops.update(keys.registry(id), {
      UpdateExpression: 'SET pullAccess = :p',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted)',
      ExpressionAttributeValues: { ':p': pullAccess },
    }),
  /**
   * Applies an edit (`PATCH`) in one conditional write: sets `fields` and removes `remove`. With `pull`, replaces the
   * pull credentials (`ref`, `setAt`; none: removes them) only if they are still `from`; with `secret`, swaps the sealed
   * secrets only if `secretRef` is still `from` (two edits at once, or an edit and a rotation, cannot leave a removed
   * account or secret in force); with `event`, carries its pending mark. False when the registry is gone or changed meanwhile.
   */
  edit: (
    id: string,
    fields: Partial<Pick<Registry, 'name' | 'url' | 'host' | 'insecure' | 'status' | 'statusCheckedAt'>>,
    change: { remove?: readonly 'statusMessage'[]; pull?: { from: string | undefined; ref?: string; setAt?: string }; secret?: { from: string; ref: string }; event?: BusEvent } = {},
  ) => {
    const { pull, secret, event } = change;
    const remove = [...(change.remove ?? []), ...(pull && !pull.ref ? ['pullCredentialsRef', 'pullCredentialsSetAt'] : [])];
    const all = {
      ...fields,
      ...(pull?.ref ? { pullCredentialsRef: pull.ref, pullCredentialsSetAt: pull.setAt } : {}),
      ...(secret ? { secretRef: secret.ref } : {}),
      ...(event ? pendingMark(event) : {}),
    };
    const entries = Object.entries(all).filter(([, v]) => v !== undefined);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = entries.map(([k, v], i) => ((names[`#s${i}`] = k), (values[`:s${i}`] = v), `#s${i} = :s${i}`));
    const removes = remove.map((k, i) => ((names[`#r${i}`] = k), `#r${i}`));
    const conditions = ['attribute_exists(pk)', 'attribute_not_exists(deleted)'];
    if (pull) conditions.push(pull.from === undefined ? 'attribute_not_exists(pullCredentialsRef)' : 'pullCredentialsRef = :pullFrom');
    if (pull?.from !== undefined) values[':pullFrom'] = pull.from;
    if (secret) conditions.push('secretRef = :secretFrom'), (values[':secretFrom'] = secret.from);
    if (sets.length === 0 && removes.length === 0) return Promise.resolve(true);
    return ops.update(keys.registry(id), {
      UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
    });
  },
  recordCoverage: (id: string, coverage: WebhookCoverage) =>
    ops.update(keys.registry(id), {
      UpdateExpression: 'SET webhookCoverage = :c',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted)',
      ExpressionAttributeValues: { ':c': coverage },
    }),
  /** Counts failed re-derivations (see `Registry.indexFailures`); works even when the registry item is unreadable. */
  countIndexFailures: (id: string, failures: { count: number; at: string; item: { space?: string; path?: string }; error: string }) =>
    countOn(ops, id, 'indexFailures', failures.count, { lastAt: failures.at, lastItem: failures.item, lastError: failures.error }),
  markRemoved: (id: string, event: BusEvent) =>
    ops.update(keys.registry(id), setWithMark({ deleted: true }, event, 'attribute_exists(pk) AND attribute_not_exists(deleted)')),
  purge: (id: string) =>
    ops.remove(keys.registry(id), { ConditionExpression: 'deleted = :t', ExpressionAttributeValues: { ':t': true } }),
});
