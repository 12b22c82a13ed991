import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Registry } from '../../shared/domain/model.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { bindSpace, createSpace } from '../../shared/usecases/spaces.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { ctx, testDeps, T0 } from '../helpers/deps.ts';
import { createTestTable } from '../helpers/table.ts';

const WRITES = new Set(['BatchWriteItemCommand', 'PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
/** A key attribute as the document client holds it, or marshalled (`{ S: … }`). */
const text = (v: unknown) => (typeof v === 'object' && v !== null && 'S' in v ? (v as { S: unknown }).S : v);

/** Counts the items written to the index (keys `AUDIENCE#…`) by every write command sent through the client. */
const countIndexWrites = (t: Awaited<ReturnType<typeof createTestTable>>) => {
  const counter = { writes: 0 };
  t.table.db.middlewareStack.add(
    (next, context) => async (args) => {
      if (!WRITES.has(context.commandName ?? '')) return next(args);
      const input = args.input as { RequestItems?: Record<string, { PutRequest?: { Item?: { pk?: unknown } }; DeleteRequest?: { Key?: { pk?: unknown } } }[]>; Item?: { pk?: unknown }; Key?: { pk?: unknown } };
      const keys = [
        ...Object.values(input.RequestItems ?? {}).flat().map((r) => r.PutRequest?.Item?.pk ?? r.DeleteRequest?.Key?.pk),
        input.Item?.pk,
        input.Key?.pk,
      ];
      counter.writes += keys.map(text).filter((pk) => typeof pk === 'string' && pk.startsWith('AUDIENCE#')).length;
      return next(args);
    },
    { step: 'initialize', name: 'countIndexWrites' },
  );
  return counter;
};

describe('index write amplification, measured on DynamoDB Local', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  let harbor: Registry;
  let counter: { writes: number };

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store);
    const reg = await registerRegistry({ name: 'h', kind: 'harbor', mode: 'hosted', url: 'https://h.test' }, env.deps, ctx);
    const stored = await t.store.registries.get(reg.id);
    if (!stored) throw new Error('registry not stored');
    harbor = stored;
    for (const w of ['a', 'b', 'c']) await putWorkspace(w, {}, env.deps, ctx);
    await createSpace(harbor.id, { name: 'pub', visibility: 'public' }, env.deps, ctx);
    await createSpace(harbor.id, { name: 'sec', visibility: 'private' }, env.deps, ctx);
    for (const w of ['a', 'b']) await bindSpace(harbor.id, 'pub', w, env.deps, ctx);
    await bindSpace(harbor.id, 'sec', 'c', env.deps, ctx);
    for (let i = 0; i < 20; i++) await putNamespace('k', `ns-${i}`, { workspaceId: 'a' }, env.deps, ctx);
    await env.deliver();
    counter = countIndexWrites(t);
  });
  afterAll(() => t.drop());

  const push = async (path: string, tag: string, at: number) => {
    counter.writes = 0;
    await applyRegistryChanges(harbor, [{ action: 'push', path, tag, digest: `sha256:${String(at).padStart(64, '0')}`, eventTime: T0 + at }], env.deps, ctx);
    await env.deliver();
    return counter.writes;
  };

  it('writes 1 + (bound workspaces) rows per push into a public space, whatever the number of namespaces', async () => {
    expect(await push('pub/app', 'v1', 1)).toBe(3);
    expect(await push('pub/app', 'v2', 2)).toBe(3);
  });

  it('writes one row per bound workspace for a private space', async () => {
    expect(await push('sec/db', 'v1', 3)).toBe(1);
  });

  it('writes no index row when a namespace moves to another workspace', async () => {
    counter.writes = 0;
    await putNamespace('k', 'ns-0', { workspaceId: 'c' }, env.deps, ctx);
    await env.deliver();
    expect(counter.writes).toBe(0);
  });
});
