import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { IndexRepairRequested, RegistrySyncRequested } from '../../events/index.ts';
import { splitPath, type Registry } from '../../shared/domain/model.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { newEvent } from '../../shared/deps.ts';
import { RegistryCallError } from '../../shared/registries/registry-error.ts';
import type { ListedSpace, RegistryListing } from '../../shared/registries/listing.ts';
import { httpRegistryApi, type RegistryApi } from '../../shared/registries/registry-api.ts';
import { handleSyncRequest, reconcileRegistry, requestScheduledSyncs } from '../../shared/usecases/reconcile.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { listImages, listTags } from '../../shared/usecases/selector.ts';
import { createSpace } from '../../shared/usecases/spaces.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { agreeableRegistryApi, ctx, T0, testDeps } from '../helpers/deps.ts';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { createTestTable } from '../helpers/table.ts';

const admin: Claims = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };
const d = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

type Holding = Record<string, Record<string, string>>;
/** A Docker Registry listing: `{ 'team/app': { '1.0': digest } }`, spaces from the paths. */
const distributionListing = (startedAt: number, repos: Holding): RegistryListing => {
  const spaces = new Map<string, ListedSpace>();
  for (const [path, tags] of Object.entries(repos)) {
    const name = splitPath(path).space;
    const space = spaces.get(name) ?? { name, repositories: [] };
    space.repositories.push({ path, tags: Object.entries(tags).map(([tag, digest]) => ({ tag, digest })) });
    spaces.set(name, space);
  }
  return { startedAt, spaces: [...spaces.values()], unreadable: [] };
};

/** A RegistryApi whose listing and project answers the test sets; Harbor writes are recorded. */
const scriptedApi = () => {
  const base = agreeableRegistryApi();
  const state = {
    listing: distributionListing(T0 + 0, {}) as RegistryListing | RegistryCallError,
    exists: new Map<string, boolean | undefined>(),
    madePublic: [] as [string, boolean][],
  };
  const api: RegistryApi = {
    ...base,
    list: async () => {
      if (state.listing instanceof RegistryCallError) throw state.listing;
      return structuredClone(state.listing);
    },
    projectExists: async (_t, name) => (state.exists.has(name) ? state.exists.get(name) : false),
    setProjectPublic: async (_t, name, isPublic) => void state.madePublic.push([name, isPublic]),
  };
  return { api, state };
};

describe('reconcile on DynamoDB Local', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  let scripted: ReturnType<typeof scriptedApi>;

  const register = async (kind: 'harbor' | 'docker-registry', mode: 'hosted' | 'integrated', host: string) => {
    const created = await registerRegistry({ name: host, kind, mode, url: `https://${host}` }, env.deps, ctx);
    const stored = await t.store.registries.get(created.id);
    if (!stored) throw new Error('registry not stored');
    return stored;
  };
  const reconcile = async (registry: Registry, listing: RegistryListing | RegistryCallError) => {
    scripted.state.listing = listing;
    const report = await reconcileRegistry(registry, env.deps, ctx);
    await env.deliver();
    return report;
  };
  const tagsOf = async (image: string) =>
    Object.fromEntries((await listTags('c', 'anyone', image, admin, env.deps)).items.map((i) => [i.tag, i.digest]));
  const images = async () => (await listImages('c', 'anyone', { limit: 100 }, admin, env.deps)).items.map((i) => i.image);
  const spaceNames = async (registry: Registry) => (await t.store.spaces.list(registry.id)).map((s) => `${s.name}:${s.visibility}`).sort();

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    scripted = scriptedApi();
    env = testDeps(t.store, { registryApi: scripted.api });
  });
  afterAll(() => t.drop());

  it('applies what the registry holds and the truth lacks, through the events webhooks use', async () => {
    const dr = await register('docker-registry', 'integrated', 'dr1.test');
    const report = await reconcile(dr, distributionListing(T0 + 1000, { alpine: { '3.20': d(1) }, 'team/app': { '1.0': d(2), latest: d(2) } }));
    expect(report).toMatchObject({ status: 'healthy', tags: { pushed: 3, deleted: 0 }, spaces: { created: ['library', 'team'] } });
    expect(await images()).toEqual(['dr1.test/alpine', 'dr1.test/team/app']);
    expect(await tagsOf('dr1.test/team/app')).toEqual({ '1.0': d(2), latest: d(2) });
    expect(await spaceNames(dr)).toEqual(['library:public', 'team:public']);
    // Nothing left to do: a second run changes nothing.
    expect(await reconcile(dr, distributionListing(T0 + 2000, { alpine: { '3.20': d(1) }, 'team/app': { '1.0': d(2), latest: d(2) } }))).toMatchObject({
      tags: { pushed: 0, deleted: 0 },
      spaces: { created: [], deleted: [] },
    });
    const stored = await t.store.registries.get(dr.id);
    expect(stored?.lastSuccessAt).toBeDefined();
  });

  it('applies a large difference in parallel chunks and counts every change', async () => {
    const dr = await register('docker-registry', 'integrated', 'drbig.test');
    // More than one chunk of changes (50), applied concurrently; the truth is checked, the indexer is not run.
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`bulk/app-${i}`, { v1: d(1000 + i) }]));
    const run = async (listing: RegistryListing) => {
      scripted.state.listing = listing;
      const report = await reconcileRegistry(dr, env.deps, ctx);
      return { tags: report.tags, events: env.bus.take().filter((e) => e.detailType.startsWith('Tag')).length };
    };
    expect(await run(distributionListing(T0 + 1000, many))).toEqual({ tags: { pushed: 60, deleted: 0 }, events: 60 });
    const present = await Promise.all(Object.keys(many).map(async (path) => (await t.store.catalog.tags(dr.id, path)).filter((x) => x.state === 'present').length));
    expect(present.reduce((a, b) => a + b, 0)).toBe(60);
    expect(await run(distributionListing(T0 + 2000, {}))).toEqual({ tags: { pushed: 0, deleted: 60 }, events: 60 });
  });

  it('lets a webhook newer than the listing win, and the listing win over older ones; a delete wins a tie', async () => {
    const dr = await register('docker-registry', 'integrated', 'dr2.test');
    const hook = (change: Parameters<typeof applyRegistryChanges>[1][number]) => applyRegistryChanges(dr, [change], env.deps, ctx);
    await hook({ action: 'push', path: 'team/app', tag: '1.0', digest: d(1), eventTime: T0 + 1000 });
    // The listing began after that push: its digest replaces it.
    await reconcile(dr, distributionListing(T0 + 2000, { 'team/app': { '1.0': d(2) } }));
    expect(await tagsOf('dr2.test/team/app')).toEqual({ '1.0': d(2) });
    // A push after the listing began is newer than what the listing saw.
    await hook({ action: 'push', path: 'team/app', tag: '1.0', digest: d(3), eventTime: T0 + 3000 });
    await reconcile(dr, distributionListing(T0 + 2500, { 'team/app': { '1.0': d(2) } }));
    expect(await tagsOf('dr2.test/team/app')).toEqual({ '1.0': d(3) });
    // So is a delete: its tombstone keeps the tag gone.
    await hook({ action: 'delete-tag', path: 'team/app', tag: '1.0', eventTime: T0 + 4000 });
    await hook({ action: 'push', path: 'team/app', tag: '2.0', digest: d(4), eventTime: T0 + 4000 });
    await reconcile(dr, distributionListing(T0 + 3500, { 'team/app': { '1.0': d(3) } }));
    expect(await tagsOf('dr2.test/team/app')).toEqual({ '2.0': d(4) });
    // A listing begun at the very time of a push it does not show removes it: a delete wins a tie.
    await reconcile(dr, distributionListing(T0 + 4000, { 'team/app': { '3.0': d(5) } }));
    expect(await tagsOf('dr2.test/team/app')).toEqual({ '3.0': d(5) });
  });

  it('deletes a Docker Registry space that held images and holds none now, never one an admin made empty', async () => {
    const dr = await register('docker-registry', 'integrated', 'dr3.test');
    await createSpace(dr.id, { name: 'planned', visibility: 'public' }, env.deps, ctx);
    await reconcile(dr, distributionListing(Date.now(), { 'old/app': { v1: d(5) }, 'keep/app': { v1: d(6) } }));
    expect(await spaceNames(dr)).toEqual(['keep:public', 'old:public', 'planned:public']);
    // distribution keeps a repository in _catalog after its last tag is deleted.
    const report = await reconcile(dr, distributionListing(Date.now() + 1000, { 'old/app': {}, 'keep/app': { v1: d(6) } }));
    expect(report.spaces).toMatchObject({ deleted: ['old'], created: [] });
    expect(await spaceNames(dr)).toEqual(['keep:public', 'planned:public']);
    expect(await images()).not.toContain('dr3.test/old/app');
  });

  it('keeps a gone space a newer push has refilled, and a space created after the listing began', async () => {
    const dr = await register('docker-registry', 'integrated', 'dr4.test');
    const listedAt = Date.now();
    await reconcile(dr, distributionListing(listedAt, { 'busy/app': { v1: d(7) } }));
    await applyRegistryChanges(dr, [{ action: 'push', path: 'busy/app', tag: 'v2', digest: d(8), eventTime: listedAt + 5000 }], env.deps, ctx);
    const report = await reconcile(dr, distributionListing(listedAt + 1000, {}));
    expect(report.spaces?.deleted).toEqual([]);
    expect(await tagsOf('dr4.test/busy/app')).toEqual({ v2: d(8) });

    const h = await register('harbor', 'hosted', 'hn.test');
    const list = scripted.api.list;
    // The admin creates a space while the listing runs: the listing cannot show it, and it must stay.
    env.deps.registryApi = {
      ...scripted.api,
      list: async (target, opts) => {
        await createSpace(h.id, { name: 'newborn', visibility: 'private' }, env.deps, ctx);
        return list(target, opts);
      },
    };
    try {
      expect((await reconcile(h, { startedAt: Date.now(), spaces: [], unreadable: [] })).spaces?.deleted).toEqual([]);
    } finally {
      env.deps.registryApi = scripted.api;
    }
    expect(await spaceNames(h)).toEqual(['newborn:private']);
    expect((await reconcile(h, { startedAt: Date.now(), spaces: [], unreadable: [] })).spaces?.deleted).toEqual(['newborn']);
  });

  it('follows an integrated Harbor’s visibility, and writes a hosted Harbor’s back from ours', async () => {
    const listing = (visibility: 'public' | 'private'): RegistryListing => ({
      startedAt: Date.now(),
      spaces: [{ name: 'proj', visibility, repositories: [{ path: 'proj/app', tags: [{ tag: 'v1', digest: d(9), pushedAt: T0 + 1_000 }] }] }],
      unreadable: [],
    });
    const integrated = await register('harbor', 'integrated', 'hi.test');
    await reconcile(integrated, listing('private'));
    expect(await spaceNames(integrated)).toEqual(['proj:private']);
    expect(await images()).not.toContain('hi.test/proj/app');
    expect(await reconcile(integrated, listing('public'))).toMatchObject({ spaces: { visibilityFollowed: ['proj'] } });
    expect(await spaceNames(integrated)).toEqual(['proj:public']);
    expect(await images()).toContain('hi.test/proj/app');
    // Harbor's own push time is the tag's time.
    expect((await listTags('c', 'anyone', 'hi.test/proj/app', admin, env.deps)).items[0]?.pushedAt).toBe(new Date(T0 + 1_000).toISOString());

    const hosted = await register('harbor', 'hosted', 'hh.test');
    await reconcile(hosted, listing('private'));
    scripted.state.madePublic.length = 0;
    expect(await reconcile(hosted, listing('public'))).toMatchObject({ spaces: { visibilityRestored: ['proj'], visibilityFollowed: [] } });
    expect(scripted.state.madePublic).toEqual([['proj', false]]);
    expect(await spaceNames(hosted)).toEqual(['proj:private']);
  });

  it('learns from Harbor the visibility of a space only a webhook named, on a hosted Harbor too, and never writes it back', async () => {
    const hosted = await register('harbor', 'hosted', 'hw.test');
    const now = Date.now();
    await applyRegistryChanges(hosted, [{ action: 'push', path: 'seen/app', tag: 'v1', digest: d(11), eventTime: now - 1000 }], env.deps, ctx);
    expect(await t.store.spaces.getLive(hosted.id, 'seen')).toMatchObject({ visibility: 'private', visibilityUnconfirmed: true });
    // The webhook asked for a reconcile of its registry.
    expect(env.bus.events.some((e) => e.detailType === RegistrySyncRequested.detailType)).toBe(true);
    await env.deliver();
    expect(await images()).not.toContain('hw.test/seen/app');
    scripted.state.madePublic.length = 0;
    const listing: RegistryListing = { startedAt: now, spaces: [{ name: 'seen', visibility: 'public', repositories: [{ path: 'seen/app', tags: [{ tag: 'v1', digest: d(11), pushedAt: now - 1000 }] }] }], unreadable: [] };
    expect(await reconcile(hosted, listing)).toMatchObject({ spaces: { visibilityFollowed: ['seen'], visibilityRestored: [] } });
    expect(scripted.state.madePublic).toEqual([]);
    expect(await t.store.spaces.getLive(hosted.id, 'seen')).toMatchObject({ visibility: 'public' });
    expect((await t.store.spaces.getLive(hosted.id, 'seen'))?.visibilityUnconfirmed).toBeUndefined();
    expect(await images()).toContain('hw.test/seen/app');
    // Confirmed now: from here on the hosted Harbor's visibility is ours again, and a drift is written back.
    listing.spaces[0] = { ...listing.spaces[0]!, visibility: 'private' };
    expect(await reconcile(hosted, listing)).toMatchObject({ spaces: { visibilityRestored: ['seen'] } });
    expect(scripted.state.madePublic).toEqual([['seen', true]]);
  });

  it('skips what it cannot take (names, times, unreadable repositories), reports it on the registry, and applies the rest', async () => {
    const dr = await register('docker-registry', 'integrated', 'ds.test');
    await reconcile(dr, distributionListing(T0, { 'keep/app': { v1: d(21) }, 'keep/locked': { v1: d(22) } }));
    const listing: RegistryListing = {
      ...distributionListing(T0 + 1000, { 'keep/app': { v1: d(21), v2: d(23) } }),
      // The registry refused to list keep/locked on its own: its tags must not be taken as deleted.
      unreadableRepositories: [{ path: 'keep/locked', reason: 'tags/list answered 403' }],
      skipped: [{ name: 'Bad Name', reason: 'not a valid repository name' }],
    };
    const report = await reconcile(dr, listing);
    expect(report.tags).toEqual({ pushed: 1, deleted: 0 });
    expect(await tagsOf('ds.test/keep/locked')).toEqual({ v1: d(22) });
    expect(report.skipped).toEqual([
      { name: 'Bad Name', reason: 'not a valid repository name' },
      { name: 'keep/locked', reason: 'unreadable: tags/list answered 403' },
    ]);
    expect((await t.store.registries.get(dr.id))?.skipped).toMatchObject({ count: 2, items: report.skipped });

    // A registry clock beyond the skew: its listing time is not trusted for deletes, and the skew is counted.
    const ahead = await reconcile(dr, distributionListing(Date.now() + 3_600_000, { 'keep/app': { v2: d(23) } }));
    expect(ahead.skipped?.[0]?.reason).toMatch(/registry's clock is more than 300 s ahead/);
    expect(Date.parse(ahead.listedAt ?? '')).toBeLessThanOrEqual(Date.now());
    expect((await t.store.registries.get(dr.id))?.clockSkew?.count).toBe(1);
    // The delete it applied can be beaten by a push of now: its tombstone is not in the future.
    await applyRegistryChanges(dr, [{ action: 'push', path: 'keep/app', tag: 'v1', digest: d(24), eventTime: Date.now() + 1000 }], env.deps, ctx);
    expect(await tagsOf('ds.test/keep/app')).toMatchObject({ v1: d(24) });
  });

  it('leaves alone what it may not read, and what Harbor cannot confirm is gone', async () => {
    const h = await register('harbor', 'integrated', 'hu.test');
    const all: RegistryListing = {
      startedAt: Date.now(),
      spaces: ['a', 'b', 'c', 'd'].map((name) => ({ name, visibility: 'public', repositories: [{ path: `${name}/app`, tags: [{ tag: 'v1', digest: d(10) }] }] })),
      unreadable: [],
    };
    await reconcile(h, all);
    scripted.state.exists.set('b', undefined).set('c', true).set('d', false);
    const report = await reconcile(h, { startedAt: Date.now() + 1000, spaces: [], unreadable: [{ name: 'a', reason: 'not a member' }] });
    expect(report.spaces?.deleted).toEqual(['d']);
    expect(report.unreadable?.map((u) => u.name).sort()).toEqual(['a', 'b']);
    expect(await spaceNames(h)).toEqual(['a:public', 'b:public', 'c:public']);
    for (const s of ['a', 'b', 'c']) expect(await tagsOf(`hu.test/${s}/app`)).toEqual({ v1: d(10) });
  });

  it('reports the Harbor projects whose webhook policy Harbor refused, with Harbor’s reason', async () => {
    const created = await registerRegistry({ name: 'hc', kind: 'harbor', mode: 'hosted', url: 'https://hc.test', credentials: { username: 'u', password: 'p' } }, env.deps, ctx);
    const h = await t.store.registries.get(created.id);
    if (!h) throw new Error('not stored');
    const asked: string[] = [];
    env.deps.registryApi = {
      ...scripted.api,
      ensureWebhookPolicy: async (target, project) => {
        asked.push(`${project}:${target.credentials?.username}`);
        if (project === 'locked') throw new RegistryCallError('refused', 'Harbor refused: 403 FORBIDDEN: forbidden', 403);
        return 'created';
      },
    };
    try {
      const spaces: ListedSpace[] = ['locked', 'open'].map((name) => ({ name, visibility: 'private', repositories: [] }));
      const report = await reconcile(h, { startedAt: Date.now(), spaces, unreadable: [] });
      expect(asked.sort()).toEqual(['locked:u', 'open:u']);
      expect(report.coverage).toMatchObject({ covered: 1, uncovered: [{ space: 'locked', reason: expect.stringContaining('403 FORBIDDEN') }] });
      expect((await t.store.registries.get(h.id))?.webhookCoverage).toEqual(report.coverage);
    } finally {
      env.deps.registryApi = scripted.api;
    }
  });

  it('changes nothing when the listing fails, and records why', async () => {
    const dr = await register('docker-registry', 'integrated', 'dr5.test');
    await reconcile(dr, distributionListing(Date.now(), { 'x/app': { v1: d(11) } }));
    const { lastSuccessAt } = (await t.store.registries.get(dr.id)) ?? {};
    const report = await reconcile(dr, new RegistryCallError('unauthorized', 'registry refused GET /v2/_catalog: 401 UNAUTHORIZED', 401));
    expect(report).toMatchObject({ status: 'unauthorized', message: expect.stringContaining('401') });
    expect(await t.store.registries.get(dr.id)).toMatchObject({ status: 'unauthorized', statusMessage: expect.stringContaining('401'), lastSuccessAt });
    expect(await tagsOf('dr5.test/x/app')).toEqual({ v1: d(11) });
  });

  it('skips names the product cannot take and applies the rest', async () => {
    const dr = await register('docker-registry', 'integrated', 'dr6.test');
    const report = await reconcile(dr, distributionListing(Date.now(), { 'ok/app': { v1: d(12), 'not:a-tag': d(12) }, 'bad__space/app': { v1: d(12) } }));
    expect(report.skipped?.map((s) => s.name).sort()).toEqual(['bad__space', 'ok/app:not:a-tag']);
    expect(await tagsOf('dr6.test/ok/app')).toEqual({ v1: d(12) });
  });

  it('asks for every registry on schedule, and audits the index after an admin’s sync', async () => {
    env.bus.take();
    const { requested } = await requestScheduledSyncs(env.deps, ctx);
    const asked = env.bus.take();
    expect(asked).toHaveLength(requested);
    expect(new Set(asked.map((e) => e.detailType))).toEqual(new Set([RegistrySyncRequested.detailType]));
    expect(requested).toBe((await t.store.registries.list()).length);

    const [dr] = await t.store.registries.list();
    if (!dr) throw new Error('no registry');
    scripted.state.listing = new RegistryCallError('unavailable', 'down');
    await handleSyncRequest(newEvent(env.deps, ctx, RegistrySyncRequested, { registryId: dr.id, reason: 'manual' }), env.deps);
    expect(env.bus.take().map((e) => e.detailType)).toEqual([]);
    scripted.state.listing = distributionListing(Date.now(), {});
    await handleSyncRequest(newEvent(env.deps, ctx, RegistrySyncRequested, { registryId: dr.id, reason: 'schedule' }), env.deps);
    expect(env.bus.take().map((e) => e.detailType)).not.toContain(IndexRepairRequested.detailType);
    await handleSyncRequest(newEvent(env.deps, ctx, RegistrySyncRequested, { registryId: dr.id, reason: 'manual' }), env.deps);
    expect(env.bus.take().map((e) => e.detailType)).toContain(IndexRepairRequested.detailType);
  });
});

describe('reconcile against a contract-faithful Harbor over HTTP', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  let harbor: FakeHarbor;

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store, { registryApi: httpRegistryApi });
    harbor = await startFakeHarbor();
    harbor.state.addProject('open', { public: true });
    harbor.state.addArtifact('open', 'team/app', fakeDigest('a'), ['1.0', 'latest'], new Date(T0 + 5_000));
    harbor.state.addArtifact('open', 'team/app', fakeDigest('untagged'), [], new Date(T0 + 6_000));
    harbor.state.addProject('closed', { public: false });
    harbor.state.addArtifact('closed', 'db', fakeDigest('b'), ['v1'], new Date(T0 + 5_000));
  });
  afterAll(async () => {
    await harbor?.close();
    await t?.drop();
  });

  it('pages through projects, nested repositories and artifacts, and takes every tag of every artifact', async () => {
    for (let i = 0; i < 120; i++) harbor.state.addProject(`bulk-${String(i).padStart(3, '0')}`, { public: i % 2 === 0 });
    for (let i = 0; i < 130; i++) harbor.state.addArtifact('bulk-000', `r${i}`, fakeDigest(`r${i}`), [`t${i}`], new Date(T0 + 7_000));
    const listing = await httpRegistryApi.list({ kind: 'harbor', url: harbor.url, credentials: harbor.credentials });
    expect(listing.spaces).toHaveLength(123);
    expect(listing.spaces.find((s) => s.name === 'bulk-000')?.repositories).toHaveLength(130);
    expect(listing.spaces.find((s) => s.name === 'open')).toEqual({
      name: 'open',
      visibility: 'public',
      repositories: [
        {
          path: 'open/team/app',
          tags: [
            // The fake's artifacts: 1024 bytes, linux/amd64 in `extra_attrs`.
            { tag: '1.0', digest: fakeDigest('a'), pushedAt: T0 + 5_000, details: { size: 1024, platforms: ['linux/amd64'] } },
            { tag: 'latest', digest: fakeDigest('a'), pushedAt: T0 + 5_000, details: { size: 1024, platforms: ['linux/amd64'] } },
          ],
        },
      ],
    });
    // The registry's own clock, to the second.
    expect(listing.startedAt % 1000).toBe(0);
    expect(Math.abs(listing.startedAt - Date.now())).toBeLessThan(5000);
    for (let i = 0; i < 120; i++) {
      const p = harbor.state.findProject(`bulk-${String(i).padStart(3, '0')}`, true);
      if (p) {
        for (const r of harbor.state.repositoriesOf(p.projectId)) harbor.state.deleteRepository(r.id);
        harbor.state.deleteProject(p.projectId);
      }
    }
  });

  it('without credentials sees public projects only: keeps a private space it knows, and reports every space uncovered', async () => {
    const created = await registerRegistry({ name: 'anon', kind: 'harbor', mode: 'integrated', url: harbor.url }, env.deps, ctx);
    const registry = await t.store.registries.get(created.id);
    if (!registry) throw new Error('not stored');
    // Harbor posted a push into the private project (a policy an admin of that Harbor configured).
    await applyRegistryChanges(registry, [{ action: 'push', path: 'closed/db', tag: 'v1', digest: fakeDigest('b'), eventTime: T0 + 5_000}], env.deps, ctx);
    const report = await reconcileRegistry(registry, env.deps, ctx);
    await env.deliver();
    expect(report.status).toBe('healthy');
    expect(report.spaces?.deleted).toEqual([]);
    expect(report.unreadable).toEqual([{ name: 'closed', reason: expect.any(String) }]);
    expect((await t.store.spaces.list(registry.id)).map((s) => s.name).sort()).toEqual(['closed', 'library', 'open']);
    expect((await t.store.catalog.tags(registry.id, 'closed/db')).map((x) => x.state)).toEqual(['present']);
    expect(report.coverage).toMatchObject({ covered: 0, uncovered: expect.arrayContaining([expect.objectContaining({ space: 'closed', reason: expect.stringContaining('without credentials') })]) });
    expect(report.coverage?.uncovered).toHaveLength(3);
  });

  it('with credentials registers its policy on every project, and repairs one that was disabled', async () => {
    const other = await startFakeHarbor();
    try {
      other.state.addProject('open', { public: true });
      const created = await registerRegistry({ name: 'admin', kind: 'harbor', mode: 'integrated', url: other.url, credentials: other.credentials }, env.deps, ctx);
      const registry = await t.store.registries.get(created.id);
      if (!registry) throw new Error('not stored');
      const report = await reconcileRegistry(registry, env.deps, ctx);
      expect(report.coverage).toMatchObject({ covered: 2, uncovered: [] });
      const open = other.state.findProject('open', true);
      expect(other.state.policiesOf(open?.projectId ?? -1).map((p) => p.name)).toEqual([`platform-image-registry-${registry.id}`]);
      const [ours] = other.state.policiesOf(open?.projectId ?? -1);
      if (ours) Object.assign(ours, { enabled: false });
      other.setDown(true);
      const down = await reconcileRegistry(registry, env.deps, ctx);
      expect(down.status).toBe('unreachable');
      other.setDown(false);
      const again = await reconcileRegistry(registry, env.deps, ctx);
      expect(again.coverage).toMatchObject({ covered: 2, uncovered: [] });
      expect(other.state.policiesOf(open?.projectId ?? -1)).toEqual([expect.objectContaining({ enabled: true })]);
    } finally {
      await other.close();
    }
  });
});
