import { GetCommand, NumberValue, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SpaceVisibilityChanged, TagPushed, type BusEvent } from '../../events/index.ts';
import { createEvent } from '../../shared/events/publisher.ts';
import type { Registry } from '../../shared/domain/model.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { handleIndexEvent, handleIndexEvents, IndexIncompleteError, repairIndex } from '../../shared/index/indexer.ts';
import { keys } from '../../shared/store/keys.ts';
import { explainImage } from '../../shared/usecases/explain.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { reindexAll } from '../../shared/usecases/reindex.ts';
import { listImages, listTags } from '../../shared/usecases/selector.ts';
import { bindSpace, createSpace, unbindSpace, updateSpace } from '../../shared/usecases/spaces.ts';
import { sweepPending } from '../../shared/usecases/sweep.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { ADMIN, ctx, testDeps } from '../helpers/deps.ts';
import { createTestTable } from '../helpers/table.ts';

const admin: Claims = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const BASE = Date.UTC(2024, 0, 1);
const HOST = 'harbor.test';

describe('one stored item the indexer cannot use stops nothing and leaks nothing (DynamoDB Local)', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  let harbor: Registry;

  const rows = async (audience: string) => (await t.store.index.all(audience)).map((r) => r.image).sort();
  const images = async (ns: string) =>
    (await listImages('c1', ns, { limit: 100 }, admin, env.deps)).items.map((i) => `${i.image.slice(HOST.length + 1)}@${i.latestTag.tag}[${i.grantedBy.join(',')}]`);
  const push = (path: string, tag: string, at: number) =>
    applyRegistryChanges(harbor, [{ action: 'push', path, tag, digest: digest(at), eventTime: at }], env.deps, ctx);
  /** What the bus does: every event is delivered, a failed one is retried later (here: reported) and never stops the next. */
  const deliver = async () => {
    const failed: unknown[] = [];
    for (let batch = env.bus.take(); batch.length; batch = env.bus.take())
      for (const e of batch) await handleIndexEvent(e, env.deps).catch((error: unknown) => void failed.push(error));
    return failed;
  };
  const failedItems = (errors: unknown[]) =>
    [...new Set(errors.flatMap((e) => (e instanceof IndexIncompleteError ? e.failures.map((f) => f.path ?? f.space ?? '') : ['not an IndexIncompleteError'])))].sort();
  /** Writes an item as is, past every schema (what an older version or a broken writer may have left). */
  const plant = (item: Record<string, unknown>) => t.table.db.send(new PutCommand({ TableName: t.table.name, Item: item }));
  const pendingKeys = async () => (await t.store.pending.olderThan(new Date(Date.now() + 60_000).toISOString())).map((m) => m.key.sk);

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store);
    const reg = await registerRegistry({ name: 'h', kind: 'harbor', mode: 'hosted', url: `https://${HOST}` }, env.deps, ctx);
    const stored = await t.store.registries.get(reg.id);
    if (!stored) throw new Error('registry not stored');
    harbor = stored;
    for (const w of ['team-a', 'team-b']) await putWorkspace(w, {}, env.deps, ctx);
    await putNamespace('c1', 'ns-a', { workspaceId: 'team-a' }, env.deps, ctx);
    await putNamespace('c1', 'ns-b', { workspaceId: 'team-b' }, env.deps, ctx);
    for (const space of ['one', 'two', 'three']) await createSpace(harbor.id, { name: space, visibility: 'public' }, env.deps, ctx);
    await bindSpace(harbor.id, 'one', 'team-a', env.deps, ctx);
    await bindSpace(harbor.id, 'two', 'team-b', env.deps, ctx);
    for (const path of ['one/bad', 'one/good', 'two/app', 'two/lost', 'two/odd', 'three/app', 'three/web']) await push(path, 'v1', BASE);
    expect(await deliver()).toEqual([]);

    const tag = (path: string, name: string, fields: Record<string, unknown>) => {
      const [space = '', repository = ''] = path.split('/');
      return { ...keys.tag(harbor.id, path, name), entityType: 'Tag', registryId: harbor.id, space, repository, path, tag: name, state: 'present', ...fields };
    };
    // Times no Date can hold (new Date(8.7e15).toISOString() throws; 1e16 is past 2^53 and reads back as a BigInt),
    // and a digest the schema refuses.
    await plant(tag('one/bad', 'future', { digest: digest(1), eventTime: NumberValue.from('10000000000000000') }));
    await plant(tag('one/bad', 'far', { digest: digest(2), eventTime: 8.7e15 }));
    await plant(tag('two/odd', 'broken', { digest: 'notadigest', eventTime: BASE + 5 }));
    // A number the SDK cannot even hand back (past 2^53 and not an integer): reading this repository's tags throws.
    await plant(tag('two/lost', 'weird', { digest: digest(3), eventTime: NumberValue.from('10000000000000000.5') }));
    // A repository item that fails its schema, its index record intact.
    const { Item } = await t.table.db.send(new GetCommand({ TableName: t.table.name, Key: keys.repository(harbor.id, 'three', 'three/app') }));
    await plant({ ...Item, repository: 'NOT A NAME' });
    // An index row that fails its schema.
    await plant({
      ...keys.indexRow('public', `${HOST}/zzz/ghost`),
      entityType: 'IndexRow',
      audience: 'public',
      image: `${HOST}/zzz/ghost`,
      registryId: harbor.id,
      latestTag: { tag: 'v', digest: 'notadigest', pushedAt: 'never' },
    });
  });
  afterAll(() => t.drop());

  it('still answers the selector, tags and explain; an unusable item is never offered', async () => {
    const everything = [
      'one/bad@v1[public,workspace:team-a]',
      'one/good@v1[public,workspace:team-a]',
      'three/app@v1[public]',
      'three/web@v1[public]',
      'two/app@v1[public]',
      'two/lost@v1[public]',
      'two/odd@v1[public]',
    ];
    expect(await images('ns-a')).toEqual(everything);
    expect(await images('unknown')).toEqual(everything.map((i) => i.replace(',workspace:team-a', '')));

    expect((await listTags('c1', 'ns-a', `${HOST}/one/bad`, admin, env.deps)).items.map((i) => i.tag)).toEqual(['v1']);
    expect((await listTags('c1', 'ns-b', `${HOST}/two/odd`, admin, env.deps)).items.map((i) => i.tag)).toEqual(['v1']);
    const future = await explainImage('c1', 'ns-a', `${HOST}/one/bad:future`, ADMIN, env.deps);
    expect(future.missingLink).toMatchObject({ link: 'tag', holds: false });
    expect((await explainImage('c1', 'ns-b', `${HOST}/two/odd:broken`, ADMIN, env.deps)).visible).toBe(false);
    expect((await explainImage('c1', 'ns-b', `${HOST}/two/odd:v1`, ADMIN, env.deps)).visible).toBe(true);
  });

  it('withdraws every image of another space made private and unbound, from every audience', async () => {
    await updateSpace(harbor.id, 'two', { visibility: 'private' }, env.deps, ctx);
    expect(failedItems(await deliver())).toEqual(['two/lost', 'two/odd']);
    // Withdrawn from public although two/lost's tags cannot even be read: a withdrawal needs none.
    expect((await rows('public')).filter((i) => i.includes('/two/'))).toEqual([]);
    expect((await images('ns-b')).filter((i) => i.startsWith('two/'))).toEqual(['two/app@v1[workspace:team-b]', 'two/lost@v1[workspace:team-b]', 'two/odd@v1[workspace:team-b]']);
    await unbindSpace(harbor.id, 'two', 'team-b', env.deps, ctx);
    expect(await deliver()).toEqual([]);
    for (const audience of ['public', 'workspace:team-a', 'workspace:team-b']) expect((await rows(audience)).filter((i) => i.includes('/two/'))).toEqual([]);
    for (const ns of ['ns-a', 'ns-b', 'unknown']) expect((await images(ns)).filter((i) => i.startsWith('two/'))).toEqual([]);
  });

  it('withdraws both repositories of the same space from public, the unusable one too; the bound workspace keeps what the rule allows', async () => {
    await updateSpace(harbor.id, 'one', { visibility: 'private' }, env.deps, ctx);
    const failed = await deliver();
    expect(failedItems(failed)).toEqual(['one/bad']);
    expect((await rows('public')).filter((i) => i.includes('/one/'))).toEqual([]);
    expect(await images('ns-a')).toEqual(['one/bad@v1[workspace:team-a]', 'one/good@v1[workspace:team-a]', 'three/app@v1[public]', 'three/web@v1[public]']);
    for (const ns of ['ns-b', 'unknown']) expect(await images(ns)).toEqual(['three/app@v1[public]', 'three/web@v1[public]']);
    // Failed parts are retried: the space's pending mark stays for the sweep, and the failure is counted.
    expect(await pendingKeys()).toContain(keys.space(harbor.id, 'one').sk);
    expect((await t.store.registries.get(harbor.id))?.indexFailures).toMatchObject({ lastItem: { space: 'one', path: 'one/bad' }, lastError: expect.stringContaining('eventTime') });
  });

  it('keeps following pushes into a repository that holds an unusable tag', async () => {
    await push('one/bad', 'v2', BASE + 10);
    expect(failedItems(await deliver())).toEqual(['one/bad']);
    expect(await images('ns-a')).toContain('one/bad@v2[workspace:team-a]');
    expect((await listTags('c1', 'ns-a', `${HOST}/one/bad`, admin, env.deps)).items.map((i) => i.tag)).toEqual(['v2', 'v1']);
  });

  it('withdraws the rows of an unreadable repository item from every audience, and still derives the others of its space', async () => {
    await bindSpace(harbor.id, 'three', 'team-a', env.deps, ctx);
    expect(failedItems(await deliver())).toEqual(['three/app']);
    expect(await rows('public')).toEqual([`${HOST}/three/web`]);
    expect(await rows('workspace:team-a')).toEqual([`${HOST}/one/bad`, `${HOST}/one/good`, `${HOST}/three/web`]);
  });

  it('lets the sweep re-emit what failed or was lost: what can be applied is, the rest stays pending and counted', async () => {
    env.bus.failNext = true;
    await push('one/good', 'v2', BASE + 20);
    expect(await deliver()).toEqual([]);
    const before = (await t.store.registries.get(harbor.id))?.indexFailures?.count ?? 0;
    // A bus that refuses one event (as EventBridge may refuse an entry): the others are re-emitted all the same.
    const refused = keys.tag(harbor.id, 'one/bad', 'v2').sk;
    const bus = {
      put: async (events: readonly BusEvent[]) => {
        if (events.some((e) => e.detailType === TagPushed.detailType && TagPushed.data.parse(e.detail.data).path === 'one/bad')) throw new Error('refused');
        await env.bus.put(events);
      },
    };
    const { reemitted, failed } = await sweepPending({ ...env.deps, bus }, -1000);
    expect({ reemitted, failed }).toEqual({ reemitted: 4, failed: 1 });
    expect(failedItems(await deliver())).toEqual(['one/bad', 'three/app']);
    expect(await images('ns-a')).toContain('one/good@v2[workspace:team-a]');
    // Space two's visibility change failed on its broken tag while team-b could see it; retried now that none may, it applies.
    expect((await pendingKeys()).sort()).toEqual(
      [keys.binding(harbor.id, 'three', 'team-a').sk, keys.space(harbor.id, 'one').sk, refused].sort(),
    );
    expect((await t.store.registries.get(harbor.id))?.indexFailures?.count).toBeGreaterThan(before);
  });

  it('repairs every other space and audience, and reports what it could not', async () => {
    // Drift in the last space the repair visits: a row in an audience the rule does not allow.
    const [good] = await t.store.index.all('workspace:team-a');
    if (!good) throw new Error('no row to copy');
    await t.store.index.write([{ ...good, audience: 'public', image: `${HOST}/two/app`, space: 'two', repository: 'app', path: 'two/app' }], []);
    const { drift, failed } = await repairIndex(env.deps);
    expect([...new Set(failed.map((f) => f.path))].sort()).toEqual(['one/bad', 'three/app']);
    expect(drift).toBe(2);
    expect(await rows('public')).toEqual([`${HOST}/three/web`]);
    expect(await t.store.index.has('public', `${HOST}/zzz/ghost`)).toBe(false);
    const all = await reindexAll(env.deps);
    expect(all).toMatchObject({ drift: 0, failed: failed.length });
  });

  it('keeps an unbind pending until its space was re-derived whole', async () => {
    await unbindSpace(harbor.id, 'three', 'team-a', env.deps, ctx);
    expect(failedItems(await deliver())).toEqual(['three/app']);
    expect(await rows('workspace:team-a')).toEqual([`${HOST}/one/bad`, `${HOST}/one/good`]);
    // The binding's tombstone carries the mark the sweep re-emits.
    expect(await pendingKeys()).toContain(keys.binding(harbor.id, 'three', 'team-a').sk);
  });

  it('withdraws every row of a space whose truth cannot be read (fail closed)', async () => {
    const { Item } = await t.table.db.send(new GetCommand({ TableName: t.table.name, Key: keys.space(harbor.id, 'one') }));
    await plant({ ...Item, visibility: 'secret' });
    // A hint, as the sweep would re-emit it: the indexer reads the truth, whatever the event says.
    const hint = createEvent(SpaceVisibilityChanged, { registryId: harbor.id, space: 'one', visibility: 'public' }, { correlationId: 'test', now: new Date() });
    const failure = await handleIndexEvent(hint, env.deps).catch((error: unknown) => error);
    expect(failedItems([failure])).toEqual(['one']);
    for (const audience of ['public', 'workspace:team-a', 'workspace:team-b']) expect((await rows(audience)).filter((i) => i.includes('/one/'))).toEqual([]);
  });
  it('fails, in a batch, only the events of the repository with an unusable tag; the others of its space and batch go through', async () => {
    for (const path of ['two/odd', 'two/app', 'three/web']) await push(path, 'v3', BASE + 20);
    const events = env.bus.take();
    const idOf = (path: string) => events.find((e) => (e.detail.data as { path?: string }).path === path)?.detail.metadata.id;
    const first = events[0] as BusEvent;
    const junk = { ...first, detail: { metadata: { ...first.detail.metadata, id: 'junk' }, data: { path: 7 } } };
    const failed = await handleIndexEvents([...events, junk].map((event) => ({ itemId: event.detail.metadata.id, event })), env.deps);
    expect(failed.sort()).toEqual([idOf('two/odd'), 'junk'].sort());
    for (const path of ['two/app', 'three/web']) expect((await t.store.catalog.readTags(harbor.id, path)).marks).toEqual([]);
    expect((await t.store.catalog.readTags(harbor.id, 'two/odd')).marks.length).toBeGreaterThan(0);
  });
});
