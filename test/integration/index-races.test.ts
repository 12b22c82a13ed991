import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { BusEvent } from '../../events/contract.ts';
import type { Registry } from '../../shared/domain/model.ts';
import { handleIndexEvent, LEASE_MS } from '../../shared/index/indexer.ts';
import { keys } from '../../shared/store/keys.ts';
import { bindSpace, createSpace, unbindSpace } from '../../shared/usecases/spaces.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { ctx, testDeps, T0 } from '../helpers/deps.ts';
import { registerTestHarbor } from '../helpers/harbor-registry.ts';
import { createTestTable } from '../helpers/table.ts';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

describe('the indexer under leases: races and lease items (DynamoDB Local)', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  let harbor: Registry;
  let now = Date.now();

  const push = (path: string, at: number) =>
    applyRegistryChanges(harbor, [{ action: 'push', path, tag: 'v1', digest: digest(at), eventTime: T0 + at }], env.deps, ctx);
  const indexEvents = () => env.bus.take().filter((e) => e.detailType !== 'PullAccessSyncRequested');
  const pendingMarks = () => t.store.pending.olderThan(new Date(now + 3_600_000).toISOString());
  const images = async (audience: string) => (await t.store.index.all(audience)).map((r) => r.image);

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store, { clock: () => new Date(now) });
    harbor = await registerTestHarbor(env.deps);
    await putWorkspace('team-a', {}, env.deps, ctx);
    await putNamespace('c1', 'ns-a', { workspaceId: 'team-a' }, env.deps, ctx);
    for (const name of ['sec', 'stuck']) await createSpace(harbor.id, { name, visibility: 'private' }, env.deps, ctx);
    await bindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    await env.deliver();
  });
  afterAll(() => t.drop());

  it('never leaves a row an unbind withdrew when a live holder outlives its lease (renewals failed, or a clock ahead)', async () => {
    await push('sec/app', 1000);
    const [pushed] = indexEvents();
    if (!pushed) throw new Error('no push event');
    // The holder stops just before writing its rows (a long pause, a throttled call) while it is still alive.
    let reached = () => {};
    const atWrite = new Promise<void>((r) => (reached = r));
    let resume = () => {};
    const resumed = new Promise<void>((r) => (resume = r));
    const write = t.store.index.write.bind(t.store.index);
    vi.spyOn(t.store.index, 'write').mockImplementationOnce(async (...args) => {
      reached();
      await resumed;
      return write(...args);
    });
    const holder = handleIndexEvent(pushed, env.deps);
    await atWrite;
    // Its lease runs out unrenewed; the unbind's worker takes the space, withdraws it from team-a, clears its mark.
    now += LEASE_MS + 1;
    await unbindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    const unbound: BusEvent[] = indexEvents();
    for (const e of unbound) await handleIndexEvent(e, env.deps);
    resume();
    // The stalled holder finds its lease gone once its write returns: it takes its rows back and fails (retried).
    await expect(holder).rejects.toThrow(/lease/);
    vi.restoreAllMocks();
    expect(await images('workspace:team-a')).toEqual([]);
    // The bus retries the push, and delivers the unbind once more (a duplicate): nothing comes back, nothing stays pending.
    await handleIndexEvent(pushed, env.deps);
    for (const e of unbound) await handleIndexEvent(e, env.deps);
    expect(await pendingMarks()).toEqual([]);
    expect(await images('workspace:team-a')).toEqual([]);
  });

  it('takes over a lease item whose expiry cannot be read instead of failing every event of the space', async () => {
    await t.table.db.send(new PutCommand({ TableName: t.table.name, Item: { ...keys.indexLease(harbor.id, 'stuck'), owner: 'ghost', until: 'soon' } }));
    await bindSpace(harbor.id, 'stuck', 'team-a', env.deps, ctx);
    await push('stuck/app', 2000);
    for (const e of indexEvents()) await handleIndexEvent(e, env.deps);
    expect((await images('workspace:team-a')).filter((i) => i.includes('/stuck/'))).toEqual(['harbor.test/stuck/app']);
    expect(await pendingMarks()).toEqual([]);
  });

  it('keeps a busy space\'s lease item within 400 KB however many space events are handed to it: a mark past the bound stays pending', async () => {
    const space = 's'.repeat(255);
    // As many repositories as are handed over one by one, each of the longest name.
    const paths = new Set(Array.from({ length: 1000 }, (_, i) => `s/${String(i).padStart(4, '0')}${'r'.repeat(249)}`));
    await t.table.db.send(new PutCommand({ TableName: t.table.name, Item: { ...keys.indexLease(harbor.id, space), owner: 'busy', until: now + LEASE_MS, paths, pathCount: 1000, whole: true } }));
    const mark = (i: number) => ({ ...keys.binding(harbor.id, space, `w${String(i).padStart(4, '0')}${'w'.repeat(58)}`), id: crypto.randomUUID(), unbound: 'w'.repeat(63) });
    // About 320 such marks would fill the item (measured): an admin flapping a binding while a big space is re-derived.
    for (let i = 0; i < 330; i++) expect(await t.store.leases.handOff(harbor.id, space, { paths: [], whole: true, marks: [mark(i)] }, now, 1000)).toBe(true);
    const work = await t.store.leases.take(harbor.id, space, 'busy', now, LEASE_MS);
    expect(work).toMatchObject({ whole: true });
    expect(work?.paths).toHaveLength(1000);
    expect(work?.marks.length).toBeGreaterThan(0);
    expect(await t.store.leases.take(harbor.id, space, 'busy', now, LEASE_MS)).toBeUndefined();
  });
});
