import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { PullAccessSyncRequested } from '../../events/index.ts';
import type { Registry } from '../../shared/domain/model.ts';
import { createEvent } from '../../shared/events/publisher.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { ImagePage } from '../../shared/http/views.ts';
import type { HttpEvent } from '../../shared/http/with-http.ts';
import { provideDeps } from '../../shared/runtime.ts';
import { keys } from '../../shared/store/keys.ts';
import { AS_OF_REUSE_MS } from '../../shared/store/pending.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { reindexAll } from '../../shared/usecases/reindex.ts';
import { listImages } from '../../shared/usecases/selector.ts';
import { createSpace } from '../../shared/usecases/spaces.ts';
import { ServiceStatus, indexStatus } from '../../shared/usecases/status.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { ctx, testDeps, T0 } from '../helpers/deps.ts';
import { registerTestHarbor } from '../helpers/harbor-registry.ts';
import { createTestTable } from '../helpers/table.ts';

const admin: Claims = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

describe('freshness you can see, on DynamoDB Local', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  let harbor: Registry;
  // The service's clock, moved by the test: every mark's time and every age below follow from it.
  let now = Date.UTC(2026, 2, 1, 12);
  const iso = (ms: number) => new Date(ms).toISOString();
  const status = async () => ServiceStatus.parse(await indexStatus(env.deps));
  const page = async () => ImagePage.parse(await listImages('c1', 'anyone', { limit: 100 }, admin, env.deps));

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store, { clock: () => new Date(now) });
    harbor = await registerTestHarbor(env.deps);
    await env.deliver();
  });
  afterAll(() => t.drop());

  it('shows no lag and nothing waiting once every change is applied, and dates a selector page by its read', async () => {
    now += 1000;
    expect((await status()).index).toEqual({ lagSeconds: 0, pending: { count: 0, atLeast: false }, batchesApplied: 0, repositoriesApplied: 0 });
    expect((await page()).asOf).toBe(iso(now));
  });

  it('names the oldest waiting change, its age and how many wait, and dates the selector by it until the indexer applied them', async () => {
    const made = now;
    await createSpace(harbor.id, { name: 'pub', visibility: 'public' }, env.deps, ctx);
    now += 5000;
    await applyRegistryChanges(harbor, [{ action: 'push', path: 'pub/web', tag: 'v1', digest: digest(1), eventTime: T0 + 1000 }], env.deps, ctx);
    now += 37_000;
    const waiting = await status();
    expect(waiting.index).toMatchObject({ lagSeconds: 42, oldestPending: { at: iso(made), detailType: 'SpaceCreated' }, pending: { count: 2, atLeast: false } });
    expect((await page()).asOf).toBe(iso(made));

    await env.deliver();
    now += 1500;
    // The indexer's holders counted the batches they applied: the space, then the push's repository.
    expect((await status()).index).toMatchObject({ lagSeconds: 0, pending: { count: 0, atLeast: false }, batchesApplied: 2, repositoriesApplied: 1, lastAppliedAt: iso(now - 1500) });
    expect((await status()).index.oldestPending).toBeUndefined();
    const fresh = await page();
    expect(fresh.items.map((i) => i.image)).toEqual(['harbor.test/pub/web']);
    expect(fresh.asOf).toBe(iso(now));
  });

  it('leaves a pull grant’s waiting robot sync out of the index lag', async () => {
    const event = createEvent(PullAccessSyncRequested, { registryId: harbor.id, workspaceId: 'team-a', reason: 'change' }, { correlationId: 'test', now: new Date(now - 3_600_000) });
    await t.store.pullGrants.putPending({ registryId: harbor.id, workspaceId: 'team-a', projects: [], status: 'failing', updatedAt: iso(now) }, event);
    expect((await status()).index).toMatchObject({ lagSeconds: 0, pending: { count: 0, atLeast: false } });
    expect((await page()).asOf).toBe(iso(now));

    const made = now;
    await applyRegistryChanges(harbor, [{ action: 'push', path: 'pub/web', tag: 'v2', digest: digest(2), eventTime: T0 + 2000 }], env.deps, ctx);
    now += 2000;
    expect((await status()).index).toMatchObject({ lagSeconds: 2, oldestPending: { at: iso(made), detailType: 'TagPushed' }, pending: { count: 1, atLeast: false } });
    expect((await page()).asOf).toBe(iso(made));
    await env.deliver();
  });

  it('dates the selector by a waiting change whose stored event no longer reads, and names it unreadable', async () => {
    // Past the last read's reuse (see the next test).
    now += AS_OF_REUSE_MS;
    const key = { pk: 'REPO#x#broken', sk: 'TAG#v1' };
    const made = now - 10_000;
    await t.table.db.send(new PutCommand({ TableName: t.table.name, Item: { ...key, pendingId: 'e1', pendingEvent: '{not json', ...keys.pendingMark(iso(made), 'e1') } }));
    onTestFinished(async () => void (await t.table.db.send(new DeleteCommand({ TableName: t.table.name, Key: key }))));
    expect((await page()).asOf).toBe(iso(made));
    expect((await status()).index).toMatchObject({ lagSeconds: 10, oldestPending: { at: iso(made), detailType: 'unreadable' }, pending: { count: 1 } });
  });

  it('dates selector pages within a second from one read of the oldest change, never later than a change made since', async () => {
    now += AS_OF_REUSE_MS;
    const readAt = now;
    expect((await page()).asOf).toBe(iso(readAt));
    // A change made after that read, within the second: the pages stay dated by the read, which is before it.
    now += 200;
    await applyRegistryChanges(harbor, [{ action: 'push', path: 'pub/web', tag: 'v3', digest: digest(6), eventTime: T0 + 4000 }], env.deps, ctx);
    now += 300;
    expect((await page()).asOf).toBe(iso(readAt));
    // A second after the read, a new read: the change waits, and dates them.
    now = readAt + AS_OF_REUSE_MS;
    expect((await page()).asOf).toBe(iso(readAt + 200));
    await env.deliver();
    now += AS_OF_REUSE_MS;
    expect((await page()).asOf).toBe(iso(now));
  });

  it('reads the pending marks before the index, so a change its read missed is in the rows it shows', async () => {
    now += AS_OF_REUSE_MS;
    const order: string[] = [];
    const { store } = env.deps;
    const slowBound = async (at: Date) => {
      const bound = await store.pending.asOfBound(at);
      await new Promise((r) => setTimeout(r, 20));
      order.push('marks');
      return bound;
    };
    const deps = {
      ...env.deps,
      store: { ...store, pending: { ...store.pending, asOfBound: slowBound }, index: { ...store.index, page: (...args: Parameters<typeof store.index.page>) => (order.push('index'), store.index.page(...args)) } },
    };
    await listImages('c1', 'anyone', { limit: 100 }, admin, deps);
    expect(order).toEqual(['marks', 'index']);
  });

  it('counts waiting changes up to a bound, through pages, and says when more may wait', async () => {
    const changes = [3, 4, 5].map((n) => ({ action: 'push' as const, path: `pub/app-${n}`, tag: 'v1', digest: digest(n), eventTime: T0 + 3000 }));
    await applyRegistryChanges(harbor, changes, env.deps, ctx);
    expect(await t.store.pending.count()).toEqual({ count: 3, atLeast: false });
    expect(await t.store.pending.count(2)).toEqual({ count: 2, atLeast: true });
    expect(await t.store.pending.count(1)).toEqual({ count: 1, atLeast: true });
    await env.deliver();
    expect(await t.store.pending.count()).toEqual({ count: 0, atLeast: false });
  });

  it('adds every applied batch to the counters, from holders recording at once', async () => {
    const before = (await status()).index;
    await Promise.all(Array.from({ length: 12 }, (_, i) => t.store.indexStatus.recordApplied(iso(now + i), i + 1)));
    const { index } = await status();
    expect(index).toMatchObject({ batchesApplied: before.batchesApplied + 12, repositoriesApplied: before.repositoriesApplied + 78 });
    expect(Array.from({ length: 12 }, (_, i) => iso(now + i))).toContain(index.lastAppliedAt);
  });

  it('shows the last full repair and the drift it fixed', async () => {
    expect((await status()).lastRepair).toBeUndefined();
    await t.table.db.send(new DeleteCommand({ TableName: t.table.name, Key: keys.indexRow('public', 'harbor.test/pub/web') }));
    now += 60_000;
    const outcome = await reindexAll(env.deps);
    expect(outcome.drift).toBeGreaterThan(0);
    expect((await status()).lastRepair).toEqual({ at: iso(now), ...outcome });
    now += 1000;
    const again = await reindexAll(env.deps);
    expect((await status()).lastRepair).toEqual({ at: iso(now), drift: 0, failed: 0, durationMs: again.durationMs });
  });

  it('shows each registry’s sync age since its last complete reconcile, and none before the first', async () => {
    const other = await registerRegistry({ name: 'dr', kind: 'docker-registry', mode: 'integrated', url: 'http://dr.test:5000' }, env.deps, ctx);
    await t.store.registries.recordSync(harbor.id, { status: 'healthy', at: iso(now), lastSuccessAt: iso(now - 90_000) });
    const { registries } = await status();
    expect(registries).toEqual(
      expect.arrayContaining([
        { id: harbor.id, name: 'h', kind: 'harbor', status: 'healthy', lastSuccessAt: iso(now - 90_000), syncAgeSeconds: 90 },
        { id: other.id, name: 'dr', kind: 'docker-registry', status: other.status },
      ]),
    );
    expect(registries).toHaveLength(2);
  });

  describe('GET /api/v1/status', () => {
    const request = (roles: string[]) =>
      ({
        version: '2.0',
        routeKey: 'GET /api/v1/status',
        rawPath: '/api/v1/status',
        rawQueryString: '',
        headers: {},
        isBase64Encoded: false,
        requestContext: { requestId: 'r1', authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: { sub: 'u', roles }, scopes: [] } } },
      }) as unknown as HttpEvent;
    const call = async (roles: string[]) => {
      const { handler } = (await import('../../functions/get-status/handler.ts')) as { handler: (e: HttpEvent, c: Context) => Promise<APIGatewayProxyStructuredResultV2> };
      const result = await handler(request(roles), { awsRequestId: 'r1' } as Context);
      return { status: result.statusCode, body: result.body ? (JSON.parse(result.body) as unknown) : undefined };
    };
    beforeAll(() => provideDeps(env.deps));
    afterAll(() => provideDeps(undefined));

    it('answers an admin with the documented status and refuses anyone else with 403', async () => {
      const ok = await call(['platform-admin']);
      expect(ok.status).toBe(200);
      expect(ServiceStatus.parse(ok.body)).toEqual(ok.body);
      expect(ok.body).toEqual(await indexStatus(env.deps));
      expect(await call(['viewer'])).toMatchObject({ status: 403, body: { error: 'FORBIDDEN' } });
    });
  });
});
