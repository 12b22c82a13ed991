import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Registry } from '../../shared/domain/model.ts';
import { keys } from '../../shared/store/keys.ts';
import { reconcileRegistry } from '../../shared/usecases/reconcile.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { bindSpace, createSpace } from '../../shared/usecases/spaces.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { consumeBatch, ctx, testDeps, T0 } from '../helpers/deps.ts';
import { createTestTable } from '../helpers/table.ts';

const WRITES = new Set(['BatchWriteItemCommand', 'PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
/** A key attribute as the document client holds it, or marshalled (`{ S: … }`). */
const text = (v: unknown) => (typeof v === 'object' && v !== null && 'S' in v ? (v as { S: unknown }).S : v);

/** Counts the items written by every write command sent through the client: those of the index (`AUDIENCE#…`), or those `counted` names. */
const countItemWrites = (t: Awaited<ReturnType<typeof createTestTable>>, counted = (pk: string, _sk: string) => pk.startsWith('AUDIENCE#')) => {
  const counter = { writes: 0 };
  t.table.db.middlewareStack.add(
    (next, context) => async (args) => {
      if (!WRITES.has(context.commandName ?? '')) return next(args);
      type ItemKey = { pk?: unknown; sk?: unknown };
      const input = args.input as { RequestItems?: Record<string, { PutRequest?: { Item?: ItemKey }; DeleteRequest?: { Key?: ItemKey } }[]>; Item?: ItemKey; Key?: ItemKey };
      const keys = [...Object.values(input.RequestItems ?? {}).flat().map((r) => r.PutRequest?.Item ?? r.DeleteRequest?.Key), input.Item, input.Key];
      counter.writes += keys.filter((k) => k && counted(String(text(k.pk)), String(text(k.sk)))).length;
      return next(args);
    },
    { step: 'initialize', name: 'countItemWrites' },
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
    counter = countItemWrites(t);
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

/** Runs `check` against a fresh table with one Docker Registry registered (its events not delivered yet); drops the table. */
const withDockerRegistry = async (check: (t: Awaited<ReturnType<typeof createTestTable>>, env: ReturnType<typeof testDeps>, registry: Registry) => Promise<void>) => {
  const t = await createTestTable(inject('dynamoEndpoint'));
  try {
    const env = testDeps(t.store);
    const reg = await registerRegistry({ name: 'd', kind: 'docker-registry', mode: 'integrated', url: 'http://d.test' }, env.deps, ctx);
    const registry = await t.store.registries.get(reg.id);
    if (!registry) throw new Error('registry not stored');
    await check(t, env, registry);
  } finally {
    await t.drop();
  }
};

describe('pending marks the indexer clears, measured on DynamoDB Local', () => {
  it('clears each tag’s mark once when a new space and its first tags are one re-derivation of the whole space', () =>
    withDockerRegistry(async (t, env, registry) => {
      await env.deliver();
      const paths = ['fresh/a', 'fresh/b', 'fresh/c', 'fresh/d', 'fresh/e'];
      await applyRegistryChanges(registry, paths.map((path, i) => ({ action: 'push' as const, path, tag: 'v1', digest: `sha256:${String(i).padStart(64, '0')}`, eventTime: T0 + i })), env.deps, ctx);
      const clears = countItemWrites(t, (pk) => pk.startsWith('REPO#'));
      // The space's creation and its tags in one batch: one piece of work, the whole space.
      await consumeBatch(env.bus.take(), env.deps);
      expect(clears.writes).toBe(paths.length);
      expect(await t.store.pending.oldest()).toBeUndefined();
    }));
});

describe('tags a first reconcile reads, measured on DynamoDB Local', () => {
  it('reads no tags of a repository the truth has no item of, and those of one it has', () =>
    withDockerRegistry(async (t, env, registry) => {
      const listing = (paths: string[]) => ({
        startedAt: Date.now(),
        spaces: [{ name: 'lib', repositories: paths.map((path, i) => ({ path, tags: [{ tag: 'v1', digest: `sha256:${String(i).padStart(64, '0')}` }] })) }],
        unreadable: [],
        unreadableRepositories: [],
        skipped: [],
      });
      const deps = { ...env.deps, registryApi: { ...env.deps.registryApi, list: async () => listing(['lib/a', 'lib/b', 'lib/c']) } };
      const tagReads = { queries: 0 };
      t.table.db.middlewareStack.add(
        (next, context) => (args) => {
          if (context.commandName === 'QueryCommand' && JSON.stringify(args.input).includes('TAG#')) tagReads.queries++;
          return next(args);
        },
        { step: 'initialize', name: 'countTagReads' },
      );
      await reconcileRegistry(registry, deps, ctx);
      expect(tagReads.queries).toBe(0);
      expect((await t.store.catalog.repositories(registry.id, 'lib')).map((r) => r.path).sort()).toEqual(['lib/a', 'lib/b', 'lib/c']);
      // The next reconcile compares the tags of the repositories the truth now holds.
      await reconcileRegistry(registry, deps, ctx);
      expect(tagReads.queries).toBe(3);
    }));
});

describe('the index record of a repository, on DynamoDB Local', () => {
  it('is written with the item whole: an attribute this version does not know is kept', () =>
    withDockerRegistry(async (t, env, registry) => {
      const change = (action: 'push' | 'delete-tag', at: number) =>
        applyRegistryChanges(registry, [{ action, path: 'lib/kept', tag: 'v1', digest: `sha256:${'1'.padStart(64, '0')}`, eventTime: T0 + at }], env.deps, ctx);
      await change('push', 1);
      await env.deliver();
      const Key = keys.repository(registry.id, 'lib', 'lib/kept');
      await t.table.db.send(new UpdateCommand({ TableName: t.table.name, Key, UpdateExpression: 'SET futureField = :f', ExpressionAttributeValues: { ':f': 'kept' } }));
      // The tag deleted: no row is left, and the record says so.
      await change('delete-tag', 2);
      await env.deliver();
      const { Item } = await t.table.db.send(new GetCommand({ TableName: t.table.name, Key, ConsistentRead: true }));
      expect(Item).toMatchObject({ futureField: 'kept', indexedAudiences: [], path: 'lib/kept' });
    }));
});

describe('repository items a delivery writes, measured on DynamoDB Local', () => {
  it('writes the item of a repository it has not seen, and none for a repository it knows (one read for all of them)', () =>
    withDockerRegistry(async (t, env, registry) => {
      const counter = countItemWrites(t, (pk, sk) => pk.startsWith('SPACE#') && sk.startsWith('REPO#'));
      const push = (paths: string[], at: number) =>
        applyRegistryChanges(registry, paths.map((path, i) => ({ action: 'push' as const, path, tag: 'v1', digest: `sha256:${String(at + i).padStart(64, '0')}`, eventTime: T0 + at + i })), env.deps, ctx);
      await push(['lib/a', 'lib/b', 'lib/b'], 10);
      expect(counter.writes).toBe(3);
      counter.writes = 0;
      await push(['lib/a', 'lib/b', 'lib/c'], 20);
      expect(counter.writes).toBe(1);
      expect((await t.store.catalog.repositories(registry.id, 'lib')).map((r) => r.path).sort()).toEqual(['lib/a', 'lib/b', 'lib/c']);
    }));
});
