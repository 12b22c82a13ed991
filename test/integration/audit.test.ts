import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SpaceUnbound } from '../../events/index.ts';
import type { Caller } from '../../shared/domain/caller.ts';
import { newEvent, type Ctx } from '../../shared/deps.ts';
import { AuditPage } from '../../shared/http/views.ts';
import { listAudit, ListAuditQuery, recordAudit } from '../../shared/usecases/audit.ts';
import { putCluster } from '../../shared/usecases/clusters.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { bindSpace, createSpace, updateSpace } from '../../shared/usecases/spaces.ts';
import { sweepPending } from '../../shared/usecases/sweep.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { receiveWebhook } from '../../shared/usecases/webhooks.ts';
import { ADMIN, testDeps } from '../helpers/deps.ts';
import { fakeDigest } from '../helpers/fake-harbor.ts';
import { harborAuthorization, harborEvent } from '../helpers/harbor-events.ts';
import { createTestTable } from '../helpers/table.ts';

const DAY = 86_400_000;
const alice: Ctx = { correlationId: 'req-alice', actor: 'alice' };
const adminOfA: Caller = { sub: 'wa', roles: ['workspace-admin:team-a'], workspaces: [] };

describe('the audit trail, on DynamoDB Local', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  // The service's clock, moved by the test: one step per change, so the story has an order.
  let now = Date.UTC(2026, 2, 1, 12);
  const step = () => (now += 1000);
  let registryId = '';
  let ownedId = '';

  const audit = async (query: Partial<Record<keyof ListAuditQuery, string>> = {}, caller: Caller = ADMIN, deps = env.deps) =>
    AuditPage.parse(await listAudit(ListAuditQuery.parse(query), caller, deps));
  /** Every page of a listing, followed by its cursors. */
  const all = async (query: Partial<Record<keyof ListAuditQuery, string>>, caller: Caller = ADMIN) => {
    const items = [];
    // Bounded: a cursor that never moves on fails the test instead of hanging it.
    for (let cursor: string | null | undefined, pages = 0; pages < 50; pages++) {
      const page = await audit({ ...query, ...(cursor ? { cursor } : {}) }, caller);
      items.push(...page.items);
      if (!(cursor = page.nextCursor)) return items;
    }
    throw new Error('the cursor never ran out');
  };

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store, { clock: () => new Date(now) });
    const deps = env.deps;
    const reg = await registerRegistry({ name: 'h', kind: 'harbor', mode: 'hosted', url: 'https://harbor.test' }, deps, alice);
    registryId = reg.id;
    step();
    await putWorkspace('team-a', {}, deps, alice);
    step();
    await createSpace(reg.id, { name: 'payments', visibility: 'private' }, deps, alice);
    step();
    await updateSpace(reg.id, 'payments', { visibility: 'public' }, deps, alice);
    step();
    await bindSpace(reg.id, 'payments', 'team-a', deps, alice);
    step();
    await putNamespace('prod', 'shop', { workspaceId: 'team-a' }, deps, alice);
    step();
    const body = harborEvent('PUSH_ARTIFACT', { host: 'harbor.test', project: 'payments', repo: 'api', tag: 'v1', digest: fakeDigest('api:v1'), occurAt: Math.floor(now / 1000) });
    await receiveWebhook('harbor', { registryId: reg.id, authorization: harborAuthorization(reg.webhook.secret, 'payments'), body }, deps, { correlationId: 'delivery-1', actor: 'anonymous' });
    step();
    ownedId = (await registerRegistry({ name: 'own', kind: 'harbor', mode: 'integrated', url: 'https://own.test' }, deps, alice, 'team-a')).id;
    step();
    await putCluster('prod', { unmanagedImages: 'deny' }, deps, alice);
  });
  afterAll(() => t.drop());

  it('tells the story of the admin flows and a webhook newest first, with who acted and what changed', async () => {
    const { items, nextCursor } = await audit();
    expect(nextCursor).toBeNull();
    expect(items.map((e) => [e.action, e.actor, e.operator])).toEqual([
      ['ClusterCreated', 'alice', undefined],
      ['RegistryConnected', 'alice', undefined],
      ['TagPushed', `registry:${registryId}`, 'admin'],
      ['NamespaceBound', 'alice', undefined],
      ['SpaceBound', 'alice', undefined],
      ['SpaceVisibilityChanged', 'alice', undefined],
      ['SpaceCreated', 'alice', undefined],
      ['WorkspaceCreated', 'alice', undefined],
      ['RegistryConnected', 'alice', undefined],
    ]);
    const byAction = new Map(items.map((e) => [e.action, e]));
    expect(byAction.get('SpaceVisibilityChanged')).toMatchObject({ target: { registryId, space: 'payments' }, change: { field: 'visibility', before: 'private', after: 'public' }, requestId: 'req-alice' });
    expect(byAction.get('SpaceBound')).toMatchObject({ change: { field: 'binding', before: null, after: 'team-a' }, workspaces: ['team-a'] });
    expect(byAction.get('NamespaceBound')).toMatchObject({ target: { cluster: 'prod', namespace: 'shop' }, change: { field: 'workspace', before: null, after: 'team-a' } });
    expect(byAction.get('TagPushed')).toMatchObject({ target: { registryId, space: 'payments', repository: 'payments/api', tag: 'v1' }, requestId: 'delivery-1' });
    expect(items[1]).toMatchObject({ target: { registryId: ownedId }, workspaces: ['team-a'] });
    // Each entry carries its expiry: its time plus AUDIT_TTL_DAYS (400 by default).
    for (const e of items) expect(e.expiresAt).toBe(Math.floor(Date.parse(e.at) / 1000) + 400 * 86_400);
  });

  it('pages newest first with an opaque cursor, and refuses one it did not give', async () => {
    const whole = (await audit()).items;
    const pages = [];
    for (let cursor: string | null | undefined; pages.length < 20; ) {
      const page = await audit({ limit: '2', ...(cursor ? { cursor } : {}) });
      pages.push(page.items.map((e) => e.id));
      if (!(cursor = page.nextCursor)) break;
    }
    expect(pages.flat()).toEqual(whole.map((e) => e.id));
    expect(pages[0]).toHaveLength(2);
    const forged = (b: unknown) => Buffer.from(JSON.stringify(b)).toString('base64url');
    for (const cursor of ['garbage!', forged({ b: 'x' }), forged({ b: '2026-13-45T~' }), forged({ b: '2026-03-01T~', more: 1 }), forged([1])])
      await expect(audit({ cursor })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('filters by registry, space, actor, workspace and time', async () => {
    expect((await audit({ actor: `registry:${registryId}` })).items.map((e) => e.action)).toEqual(['TagPushed']);
    expect((await audit({ registryId, space: 'payments' })).items.map((e) => e.action)).toEqual(['TagPushed', 'SpaceBound', 'SpaceVisibilityChanged', 'SpaceCreated']);
    expect((await audit({ workspaceId: 'team-a' })).items.map((e) => e.action)).toEqual(['RegistryConnected', 'NamespaceBound', 'SpaceBound', 'WorkspaceCreated']);
    const [newest, second] = (await audit()).items;
    // `since` inclusive, `until` exclusive.
    expect((await audit({ since: second?.at ?? '', until: newest?.at ?? '' })).items.map((e) => e.id)).toEqual([second?.id]);
    await expect(audit({ since: newest?.at ?? '', until: second?.at ?? '' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('shows a workspace admin only what concerns their workspaces, and refuses another workspace’s filter', async () => {
    expect((await audit({}, adminOfA)).items.map((e) => e.action)).toEqual(['RegistryConnected', 'NamespaceBound', 'SpaceBound', 'WorkspaceCreated']);
    expect((await audit({ registryId }, adminOfA)).items.map((e) => e.action)).toEqual(['SpaceBound']);
    await expect(audit({ workspaceId: 'team-b' }, adminOfA)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await audit({ workspaceId: 'team-a' }, adminOfA)).items).toHaveLength(4);
  });

  it('answers a sparse filter in bounded steps: a cursor to go on, never an endless scan', async () => {
    // 35 later days with an entry each, none of them the registry's: one request finishes at most 31 days.
    const later = now + 10 * DAY;
    for (let d = 0; d < 35; d++) await recordAudit({ ...env.deps, clock: () => new Date(later + d * DAY) }, alice, { action: 'ClusterUpdated', target: { cluster: 'later' } });
    const at = { ...env.deps, clock: () => new Date(later + 35 * DAY) };
    const query = { actor: `registry:${registryId}` };
    const first = await audit(query, ADMIN, at);
    expect(first.items).toEqual([]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await audit({ ...query, cursor: first.nextCursor ?? '' }, ADMIN, at);
    expect(second.items.map((e) => e.action)).toEqual(['TagPushed']);
    expect(second.nextCursor).toBeNull();
  });

  it('does not return an entry past its TTL, though the store still holds it', async () => {
    const written = Date.UTC(2026, 5, 1);
    const shortLived = { ...env.deps, auditTtlDays: 1, clock: () => new Date(written) };
    await recordAudit(shortLived, alice, { action: 'ClusterDeleted', target: { cluster: 'ttl' } });
    const query = { since: new Date(written - DAY).toISOString(), actor: 'alice' };
    const seen = (await audit(query, ADMIN, { ...shortLived, clock: () => new Date(written + DAY / 2) })).items;
    expect(seen.map((e) => [e.action, e.expiresAt])).toEqual([['ClusterDeleted', written / 1000 + 86_400]]);
    // Read two days on, even where the setting was raised since (the entry keeps its own expiry): gone.
    for (const auditTtlDays of [1, 400]) expect((await audit(query, ADMIN, { ...env.deps, auditTtlDays, clock: () => new Date(written + 2 * DAY) })).items).toEqual([]);
    expect((await t.store.audit.dayPage('2026-06-01', { limit: 10 })).entries).toHaveLength(1);
  });

  it('records a change whose process died before its entry was written when the sweep re-emits it, once', async () => {
    now = Date.UTC(2026, 2, 1, 13);
    const before = (await all({ since: '2026-03-01T00:00:00Z', until: '2026-03-02T00:00:00Z' })).length;
    // The unbind's write with its pending mark, and then nothing: neither the entry nor the bus.
    const event = newEvent(env.deps, { correlationId: 'req-lost', actor: 'bob' }, SpaceUnbound, { registryId, space: 'payments', workspaceId: 'team-a' });
    expect(await t.store.spaces.unbind(registryId, 'payments', 'team-a', event)).toBe(true);
    expect((await audit({ actor: 'bob' })).items).toEqual([]);
    now += 60_000;
    await sweepPending(env.deps);
    await sweepPending(env.deps);
    const [lost] = (await audit({ actor: 'bob' })).items;
    expect(lost).toMatchObject({ id: event.detail.metadata.id, action: 'SpaceUnbound', requestId: 'req-lost', change: { field: 'binding', before: 'team-a', after: null } });
    // The sweep re-emitted every change still marked; their entries were written again over themselves.
    expect(await all({ since: '2026-03-01T00:00:00Z', until: '2026-03-02T00:00:00Z' })).toHaveLength(before + 1);
  });

  it('never fails a change because its entry could not be written', async () => {
    step();
    const down = async () => {
      throw new Error('table down');
    };
    const broken = { ...env.deps, store: { ...env.deps.store, audit: { ...env.deps.store.audit, put: down } } };
    env.bus.take();
    await expect(updateSpace(registryId, 'payments', { visibility: 'private' }, broken, alice)).resolves.toMatchObject({ visibility: 'private' });
    await expect(putWorkspace('team-b', {}, broken, alice)).resolves.toMatchObject({ created: true });
    expect(env.bus.take().map((e) => e.detailType)).toEqual(['SpaceVisibilityChanged']);
  });
});
