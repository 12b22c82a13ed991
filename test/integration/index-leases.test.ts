import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { handleIndexEvent, LEASE_MS } from '../../shared/index/indexer.ts';
import type { Registry } from '../../shared/domain/model.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { keys } from '../../shared/store/keys.ts';
import { listImages } from '../../shared/usecases/selector.ts';
import { bindSpace, createSpace, unbindSpace } from '../../shared/usecases/spaces.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { ctx, testDeps, T0 } from '../helpers/deps.ts';
import { registerTestHarbor } from '../helpers/harbor-registry.ts';
import { createTestTable } from '../helpers/table.ts';

const admin: Claims = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

describe('the indexer in parallel: one holder per space, work handed over and coalesced (DynamoDB Local)', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  let harbor: Registry;
  let now = Date.now();

  const images = async (ns: string) => (await listImages('c1', ns, { limit: 100 }, admin, env.deps)).items.map((i) => i.image).sort();
  const pushAll = (paths: string[], at: number) =>
    applyRegistryChanges(harbor, paths.map((path, i) => ({ action: 'push' as const, path, tag: 'v1', digest: digest(at + i), eventTime: T0 + at + i })), env.deps, ctx);
  const pendingMarks = () => t.store.pending.olderThan(new Date(now + 3_600_000).toISOString());
  /** Holders per space right now, and the most ever seen at once, from what the lease store answered. */
  const holders = new Map<string, number>();
  let mostAtOnce = 0;

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store, { clock: () => new Date(now) });
    harbor = await registerTestHarbor(env.deps);
    await putWorkspace('team-a', {}, env.deps, ctx);
    await putNamespace('c1', 'ns-a', { workspaceId: 'team-a' }, env.deps, ctx);
    for (const name of ['pub', 'other']) await createSpace(harbor.id, { name, visibility: 'public' }, env.deps, ctx);
    await createSpace(harbor.id, { name: 'sec', visibility: 'private' }, env.deps, ctx);
    await env.deliver();
    const { leases } = t.store;
    const track = (space: string, delta: number) => {
      const n = (holders.get(space) ?? 0) + delta;
      holders.set(space, n);
      mostAtOnce = Math.max(mostAtOnce, n);
    };
    const acquire = leases.acquire.bind(leases);
    const take = leases.take.bind(leases);
    const abandon = leases.abandon.bind(leases);
    vi.spyOn(leases, 'acquire').mockImplementation(async (r, s, ...rest) => {
      const got = await acquire(r, s, ...rest);
      if (got) track(s, 1);
      return got;
    });
    vi.spyOn(leases, 'take').mockImplementation(async (r, s, ...rest) => {
      const got = await take(r, s, ...rest);
      if (!got) track(s, -1);
      return got;
    });
    vi.spyOn(leases, 'abandon').mockImplementation(async (r, s, ...rest) => {
      const done = await abandon(r, s, ...rest);
      if (done) track(s, -1);
      return done;
    });
  });
  afterAll(() => t.drop());

  it('applies 60 tag events of one space delivered 8 at a time with one holder at a time, in a few batches, and clears every mark', async () => {
    await pushAll(Array.from({ length: 60 }, (_, i) => `pub/app-${String(i).padStart(2, '0')}`), 1000);
    await pushAll(['other/one', 'other/two'], 2000);
    const events = env.bus.take();
    expect(events).toHaveLength(62);
    const handOff = vi.spyOn(t.store.leases, 'handOff');
    const queue = [...events];
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let e = queue.shift(); e; e = queue.shift()) await handleIndexEvent(e, env.deps);
    }));
    expect(await images('ns-a')).toEqual([...Array.from({ length: 60 }, (_, i) => `harbor.test/pub/app-${String(i).padStart(2, '0')}`), 'harbor.test/other/one', 'harbor.test/other/two'].sort());
    expect(mostAtOnce).toBe(1);
    expect([...holders.values()].every((n) => n === 0)).toBe(true);
    // Coalesced: most events were handed to the space's holder instead of re-deriving on their own.
    const handed = (await Promise.all(handOff.mock.results.map((r) => r.value as Promise<boolean>))).filter(Boolean).length;
    expect(handed).toBeGreaterThan(30);
    handOff.mockRestore();
    expect(await pendingMarks()).toEqual([]);
    // Nothing is left behind: a space at rest has no lease item.
    expect(await t.store.leases.acquire(harbor.id, 'pub', 'probe', now, LEASE_MS)).toEqual({ paths: [], whole: false, marks: [] });
    expect(await t.store.leases.take(harbor.id, 'pub', 'probe', now, LEASE_MS)).toBeUndefined();
  });

  it('hands a bind and an unbind racing pushes to the holder: the last state wins and the tombstone goes with its mark', async () => {
    await pushAll(['sec/db', 'sec/api'], 3000);
    await bindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    await pushAll(['sec/web'], 3100);
    await unbindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    const events = env.bus.take().filter((e) => e.detailType !== 'PullAccessSyncRequested');
    await Promise.all(events.map((e) => handleIndexEvent(e, env.deps)));
    expect((await images('ns-a')).filter((i) => i.includes('/sec/'))).toEqual([]);
    expect(await t.store.index.all('workspace:team-a')).toEqual([]);
    expect(await t.table.db.send(new GetCommand({ TableName: t.table.name, Key: keys.binding(harbor.id, 'sec', 'team-a') }))).not.toHaveProperty('Item');
    expect(await pendingMarks()).toEqual([]);
    expect(mostAtOnce).toBe(1);
  });

  it('lets the lease of a holder that died run out, then applies what was handed to it', async () => {
    // A holder takes the space and dies: no renewal, no take.
    expect(await t.store.leases.acquire(harbor.id, 'pub', 'dead', now, LEASE_MS)).toBeTruthy();
    await pushAll(['pub/late'], 4000);
    for (const e of env.bus.take()) await handleIndexEvent(e, env.deps);
    expect(await images('ns-a')).not.toContain('harbor.test/pub/late');
    expect(await pendingMarks()).toHaveLength(1);
    now += LEASE_MS + 1;
    await pushAll(['pub/later'], 4100);
    for (const e of env.bus.take()) await handleIndexEvent(e, env.deps);
    expect(await images('ns-a')).toEqual(expect.arrayContaining(['harbor.test/pub/late', 'harbor.test/pub/later']));
    expect(await pendingMarks()).toEqual([]);
  });

  it('turns work handed over past the bound into the whole space, and reads an unreadable lease item as the whole space', async () => {
    const { leases } = t.store;
    expect(await leases.acquire(harbor.id, 'other', 'h1', now, LEASE_MS)).toBeTruthy();
    expect(await leases.handOff(harbor.id, 'other', { paths: ['other/a', 'other/b'], whole: false, marks: [] }, now, 3)).toBe(true);
    expect(await leases.handOff(harbor.id, 'other', { paths: ['other/c'], whole: false, marks: [] }, now, 3)).toBe(true);
    expect(await leases.handOff(harbor.id, 'other', { paths: ['other/d'], whole: false, marks: [] }, now, 3)).toBe(true);
    const work = await leases.take(harbor.id, 'other', 'h1', now, LEASE_MS);
    expect(work).toMatchObject({ whole: true });
    expect(work?.paths.sort()).toEqual(['other/a', 'other/b', 'other/c']);
    expect(await leases.take(harbor.id, 'other', 'h1', now, LEASE_MS)).toBeUndefined();
    // Nobody holds it now: a hand-off is refused, so the caller takes the lease itself.
    expect(await leases.handOff(harbor.id, 'other', { paths: ['other/e'], whole: false, marks: [] }, now, 3)).toBe(false);

    await t.table.db.send(new PutCommand({ TableName: t.table.name, Item: { ...keys.indexLease(harbor.id, 'other'), paths: 'not a set', marks: 7 } }));
    expect(await leases.acquire(harbor.id, 'other', 'h2', now, LEASE_MS)).toEqual({ paths: [], whole: true, marks: [] });
    expect(await leases.take(harbor.id, 'other', 'h2', now, LEASE_MS)).toBeUndefined();
  });
});
