import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handleIndexEvent, handleIndexEvents, repairIndex } from '../../shared/index/indexer.ts';
import type { Registry } from '../../shared/domain/model.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { listImages, listTags } from '../../shared/usecases/selector.ts';
import { bindSpace, createSpace, deleteSpace, unbindSpace, updateSpace } from '../../shared/usecases/spaces.ts';
import { sweepPending } from '../../shared/usecases/sweep.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { removeRegistry } from '../../shared/usecases/registries.ts';
import { ctx, testDeps, T0 } from '../helpers/deps.ts';
import { createTestTable } from '../helpers/table.ts';

const admin: Claims = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

describe('the indexer on DynamoDB Local', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  let harbor: Registry;

  const images = async (ns: string) =>
    (await listImages('c1', ns, { limit: 100 }, admin, env.deps)).items.map((i) => `${i.image}@${i.latestTag.tag}[${i.grantedBy.join(',')}]`);
  const push = (path: string, tag: string, at: number, d = digest(at)) =>
    applyRegistryChanges(harbor, [{ action: 'push', path, tag, digest: d, eventTime: T0 + at }], env.deps, ctx);

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store);
    const reg = await registerRegistry({ name: 'h', kind: 'harbor', mode: 'hosted', url: 'https://harbor.test' }, env.deps, ctx);
    const stored = await t.store.registries.get(reg.id);
    if (!stored) throw new Error('registry not stored');
    harbor = stored;
    for (const w of ['team-a', 'team-b']) await putWorkspace(w, {}, env.deps, ctx);
    await putNamespace('c1', 'ns-a', { workspaceId: 'team-a' }, env.deps, ctx);
    await putNamespace('c1', 'ns-b', { workspaceId: 'team-b' }, env.deps, ctx);
    await env.deliver();
  });
  afterAll(() => t.drop());

  it('offers a public space to every namespace and a private one only after it is bound', async () => {
    await createSpace(harbor.id, { name: 'pub', visibility: 'public' }, env.deps, ctx);
    await createSpace(harbor.id, { name: 'sec', visibility: 'private' }, env.deps, ctx);
    await push('pub/web', 'v1', 1000);
    await push('sec/db', 'v1', 1000);
    await env.deliver();
    expect(await images('ns-a')).toEqual(['harbor.test/pub/web@v1[public]']);
    expect(await images('ns-b')).toEqual(['harbor.test/pub/web@v1[public]']);
    expect(await images('unknown')).toEqual(['harbor.test/pub/web@v1[public]']);

    await bindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    await env.deliver();
    expect(await images('ns-a')).toEqual(['harbor.test/pub/web@v1[public]', 'harbor.test/sec/db@v1[workspace:team-a]']);
    expect(await images('ns-b')).toEqual(['harbor.test/pub/web@v1[public]']);
  });

  it('follows a namespace that moves to another workspace without touching the index', async () => {
    const before = await t.store.index.all('workspace:team-a');
    await putNamespace('c1', 'ns-b', { workspaceId: 'team-a' }, env.deps, ctx);
    await env.deliver();
    expect(await images('ns-b')).toContain('harbor.test/sec/db@v1[workspace:team-a]');
    expect(await t.store.index.all('workspace:team-a')).toEqual(before);
    await putNamespace('c1', 'ns-b', { workspaceId: 'team-b' }, env.deps, ctx);
    await env.deliver();
    expect(await images('ns-b')).toEqual(['harbor.test/pub/web@v1[public]']);
  });

  it('withdraws a private image on unbind and on a visibility flip, and hides its tags', async () => {
    await unbindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    await env.deliver();
    expect(await images('ns-a')).toEqual(['harbor.test/pub/web@v1[public]']);
    const reader: Claims = { sub: 'r', roles: [], workspaces: ['team-a'] };
    await expect(listTags('c1', 'ns-a', 'harbor.test/sec/db', reader, env.deps)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    await updateSpace(harbor.id, 'pub', { visibility: 'private' }, env.deps, ctx);
    await env.deliver();
    expect(await images('ns-a')).toEqual([]);
    await updateSpace(harbor.id, 'pub', { visibility: 'public' }, env.deps, ctx);
    await bindSpace(harbor.id, 'pub', 'team-a', env.deps, ctx);
    await env.deliver();
    expect(await images('ns-a')).toEqual(['harbor.test/pub/web@v1[public,workspace:team-a]']);
  });

  it('decides a tag by the registry event time, not by arrival; a delete wins a tie', async () => {
    await push('pub/web', 'v2', 3000);
    await applyRegistryChanges(harbor, [{ action: 'delete-tag', path: 'pub/web', tag: 'v2', eventTime: T0 + 2000 }], env.deps, ctx);
    await env.deliver();
    expect((await listTags('c1', 'ns-a', 'harbor.test/pub/web', admin, env.deps)).items.map((i) => i.tag)).toEqual(['v2', 'v1']);

    await applyRegistryChanges(harbor, [{ action: 'delete-tag', path: 'pub/web', tag: 'v2', eventTime: T0 + 3000 }], env.deps, ctx);
    await push('pub/web', 'v2', 3000);
    await push('pub/web', 'v2', 2500);
    await env.deliver();
    expect((await listTags('c1', 'ns-a', 'harbor.test/pub/web', admin, env.deps)).items.map((i) => i.tag)).toEqual(['v1']);
  });

  it('removes every tag on a digest when the artifact is deleted', async () => {
    await push('pub/api', 'a', 5000, digest(77));
    await push('pub/api', 'b', 5001, digest(77));
    await push('pub/api', 'c', 5002, digest(78));
    await applyRegistryChanges(harbor, [{ action: 'delete-digest', path: 'pub/api', digest: digest(77), eventTime: T0 + 6000 }], env.deps, ctx);
    await env.deliver();
    expect((await listTags('c1', 'ns-a', 'harbor.test/pub/api', admin, env.deps)).items.map((i) => i.tag)).toEqual(['c']);
  });

  it('loses no change when the event never reaches the bus: the sweep re-emits it', async () => {
    env.bus.failNext = true;
    await push('pub/lost', 'v1', 7000);
    await env.deliver();
    expect(await images('ns-a')).not.toContain('harbor.test/pub/lost@v1[public,workspace:team-a]');
    const { reemitted } = await sweepPending({ ...env.deps }, -1000);
    expect(reemitted).toBeGreaterThanOrEqual(1);
    await env.deliver();
    expect(await images('ns-a')).toContain('harbor.test/pub/lost@v1[public,workspace:team-a]');
    expect(await t.store.pending.olderThan(new Date(Date.now() + 60_000).toISOString())).toEqual([]);
  });

  it('is idempotent: replaying every event changes nothing', async () => {
    const before = await images('ns-a');
    const { drift } = await repairIndex(env.deps);
    expect(drift).toBe(0);
    expect(await images('ns-a')).toEqual(before);
  });

  it('repairs rows that drifted from the truth and counts them', async () => {
    await t.store.index.write([], [{ audience: 'public', image: 'harbor.test/pub/web' }]);
    await t.store.index.write(
      [{ audience: 'workspace:team-b', image: 'harbor.test/ghost/x', registryId: harbor.id, space: 'ghost', repository: 'x', path: 'ghost/x', visibility: 'private', tagCount: 1, latestTag: { tag: 'v', digest: digest(1), pushedAt: new Date(0).toISOString() }, updatedAt: new Date(0).toISOString() }],
      [],
    );
    const { drift } = await repairIndex(env.deps);
    expect(drift).toBe(2);
    expect(await images('ns-b')).not.toContain('harbor.test/ghost/x@v[workspace:team-b]');
    expect(await images('ns-b')).toContain('harbor.test/pub/web@v1[public]');
  });

  it('applies a batch of tag events of one space in one go, and a page cached before it shows the batch at once', async () => {
    const before = await images('ns-a');
    // Read twice: the second answer comes from the page cache, which the batch must invalidate (one bump, at its end).
    expect(await images('ns-a')).toEqual(before);
    await push('pub/batch-1', 'v1', 5000);
    await push('pub/batch-2', 'v1', 5001);
    const events = env.bus.take();
    expect(events.map((e) => e.detailType)).toEqual(['TagPushed', 'TagPushed']);
    const failed = await handleIndexEvents(events.map((event) => ({ itemId: event.detail.metadata.id, event })), env.deps);
    expect(failed).toEqual([]);
    expect(await images('ns-a')).toEqual([...before, 'harbor.test/pub/batch-1@v1[public,workspace:team-a]', 'harbor.test/pub/batch-2@v1[public,workspace:team-a]'].sort());
    for (const path of ['pub/batch-1', 'pub/batch-2']) expect((await t.store.catalog.readTags(harbor.id, path)).marks).toEqual([]);
    // Delivered again (a duplicate): the tags carry no mark any more, so nothing is written.
    const writes = t.store.index.write;
    let written = 0;
    t.store.index.write = async (...args) => ((written += 1), writes(...args));
    try {
      expect(await handleIndexEvents(events.map((event) => ({ itemId: event.detail.metadata.id, event })), env.deps)).toEqual([]);
    } finally {
      t.store.index.write = writes;
    }
    expect(written).toBe(0);
  });

  it('purges a deleted space and a removed registry from every selector', async () => {
    await deleteSpace(harbor.id, 'pub', env.deps, ctx);
    await env.deliver();
    expect(await images('ns-a')).toEqual([]);
    expect(await t.store.catalog.repositories(harbor.id, 'pub')).toEqual([]);

    await bindSpace(harbor.id, 'sec', 'team-b', env.deps, ctx);
    await env.deliver();
    expect(await images('ns-b')).toEqual(['harbor.test/sec/db@v1[workspace:team-b]']);
    await removeRegistry(harbor.id, env.deps, ctx);
    for (const e of env.bus.take()) await handleIndexEvent(e, env.deps);
    expect(await images('ns-b')).toEqual([]);
    expect(await t.store.registries.getAny(harbor.id)).toBeUndefined();
  });
});
