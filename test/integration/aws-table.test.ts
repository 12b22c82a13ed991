import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BusEvent } from '../../events/contract.ts';
import { DataStack } from '../../cdk/stacks/data-stack.ts';
import { readDeploySettings } from '../../cdk/settings.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { handleIndexEvent } from '../../shared/index/indexer.ts';
import { createStore } from '../../shared/store/index.ts';
import { ensureTable } from '../../shared/store/schema.ts';
import { createDocumentClient } from '../../shared/store/table.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { listImages } from '../../shared/usecases/selector.ts';
import { bindSpace, createSpace } from '../../shared/usecases/spaces.ts';
import { sweepPending } from '../../shared/usecases/sweep.ts';
import { deleteWorkspace, putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { ctx, testDeps, T0 } from '../helpers/deps.ts';

const admin: Claims = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

/** The table exactly as the stateful stack declares it, created from the synthesized template's properties. */
const tableFromTemplate = () => {
  const app = new App();
  const settings = readDeploySettings((k) => ({ stage: 'it', oidcIssuer: 'https://issuer.example.com/', oidcAudience: 'x' })[k]);
  const table = Object.values(Template.fromStack(new DataStack(app, 'Data', { settings })).findResources('AWS::DynamoDB::Table'))[0];
  if (!table) throw new Error('the data stack declares no table');
  return table.Properties as Pick<CreateTableCommandInput, 'KeySchema' | 'AttributeDefinitions' | 'GlobalSecondaryIndexes' | 'BillingMode'> & {
    TimeToLiveSpecification: { AttributeName: string; Enabled: boolean };
  };
};

const shape = (t: TableDescription | undefined) => ({
  keys: t?.KeySchema,
  attributes: [...(t?.AttributeDefinitions ?? [])].sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName))),
  indexes: (t?.GlobalSecondaryIndexes ?? []).map((g) => ({ name: g.IndexName, keys: g.KeySchema, projection: g.Projection?.ProjectionType })).sort((a, b) => String(a.name).localeCompare(String(b.name))),
});

describe(`the deployed table's definition on ${inject('awsEndpoints').kind}`, () => {
  const endpoints = inject('awsEndpoints');
  const client = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: endpoints.region, credentials: endpoints.credentials });
  const name = `cdk-${randomBytes(5).toString('hex')}`;
  const localName = `local-${randomBytes(5).toString('hex')}`;
  const declared = tableFromTemplate();
  let env: ReturnType<typeof testDeps>;
  let store: ReturnType<typeof createStore>;
  const db = createDocumentClient(endpoints.dynamodb, endpoints.region);

  beforeAll(async () => {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: declared.KeySchema,
        AttributeDefinitions: declared.AttributeDefinitions,
        GlobalSecondaryIndexes: declared.GlobalSecondaryIndexes,
        BillingMode: declared.BillingMode,
      }),
    );
    for (let i = 0; i < 100 && (await client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus !== 'ACTIVE'; i++) await new Promise((r) => setTimeout(r, 50));
    await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: declared.TimeToLiveSpecification }));
    await ensureTable(client, localName);
    store = createStore({ db, name });
    env = testDeps(store);
  });
  afterAll(async () => {
    for (const TableName of [name, localName]) await client.send(new DeleteTableCommand({ TableName }));
    client.destroy();
    db.destroy();
  });

  it('is the table the local stores create: same keys, attributes and GSIs', async () => {
    const [cdk, local] = await Promise.all([name, localName].map((TableName) => client.send(new DescribeTableCommand({ TableName }))));
    expect(shape(cdk?.Table)).toEqual(shape(local?.Table));
    expect(shape(cdk?.Table).indexes.map((i) => i.name)).toEqual(['gsi1', 'gsi2']);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe(declared.TimeToLiveSpecification.AttributeName);
  });

  it('serves every access pattern the service uses, and the indexer is idempotent on it', async () => {
    const registry = await registerRegistry({ name: 'h', kind: 'harbor', mode: 'hosted', url: 'https://harbor.it' }, env.deps, ctx);
    const harbor = await store.registries.get(registry.id);
    if (!harbor) throw new Error('registry not stored');
    for (const w of ['team-a', 'team-b']) await putWorkspace(w, {}, env.deps, ctx);
    await putNamespace('c1', 'ns-a', { workspaceId: 'team-a' }, env.deps, ctx);
    await putNamespace('c1', 'ns-b', { workspaceId: 'team-b' }, env.deps, ctx);
    await createSpace(harbor.id, { name: 'pub', visibility: 'public' }, env.deps, ctx);
    await createSpace(harbor.id, { name: 'sec', visibility: 'private' }, env.deps, ctx);
    await bindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    for (const [i, path] of ['pub/web', 'pub/api', 'sec/db'].entries())
      await applyRegistryChanges(harbor, [{ action: 'push', path, tag: 'v1', digest: digest(i + 1), eventTime: T0 + 1000 + i }], env.deps, ctx);
    const events: BusEvent[] = env.bus.take();
    expect(events.length).toBeGreaterThan(8);

    // GSI2: every change is marked pending until indexed; the sweep finds the marks (oldest first) and re-emits them.
    const later = { ...env.deps, clock: () => new Date(Date.now() + 3_600_000) };
    expect((await sweepPending(later)).reemitted).toBe(events.length);
    env.bus.take();

    const snapshot = async () => ({
      public: (await store.index.all('public')).map((r) => r.image),
      a: (await store.index.all('workspace:team-a')).map((r) => r.image),
      b: (await store.index.all('workspace:team-b')).map((r) => r.image),
      nsA: (await listImages('c1', 'ns-a', { limit: 100 }, admin, env.deps)).items.map((i) => `${i.image}[${i.grantedBy.join(',')}]`),
      nsB: (await listImages('c1', 'ns-b', { limit: 100 }, admin, env.deps)).items.map((i) => `${i.image}[${i.grantedBy.join(',')}]`),
    });
    for (const e of events) await handleIndexEvent(e, env.deps);
    const once = await snapshot();
    expect(once.nsA).toEqual(['harbor.it/pub/api[public]', 'harbor.it/pub/web[public]', 'harbor.it/sec/db[workspace:team-a]']);
    expect(once.nsB).toEqual(['harbor.it/pub/api[public]', 'harbor.it/pub/web[public]']);
    expect(await store.pending.olderThan(new Date(Date.now() + 3_600_000).toISOString())).toEqual([]);

    // Duplicated and reordered delivery (what EventBridge's at-least-once retries can do) changes nothing.
    for (const e of [...events].reverse()) await handleIndexEvent(e, env.deps);
    for (const e of events) await handleIndexEvent(e, env.deps);
    expect(await snapshot()).toEqual(once);

    // GSI1: what is bound to a workspace.
    await expect(deleteWorkspace('team-a', env.deps, ctx)).rejects.toMatchObject({ code: 'CONFLICT', details: { spaces: [`${harbor.id}/sec`], namespaces: ['c1/ns-a'] } });
  });
});
