import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistributionClient } from '../../shared/registries/distribution-client.ts';
import { createHarborClient, RegistryCallError } from '../../shared/registries/harbor-client.ts';
import { listDistribution, listHarbor, type ListingProgress } from '../../shared/registries/listing.ts';
import { mapLimit } from '../../shared/registries/pool.ts';
import { httpRegistryApi } from '../../shared/registries/registry-api.ts';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

/** A Docker Registry as its API answers: `_catalog`, `tags/list`, HEAD manifest. */
const distribution = (repos: Record<string, Record<string, string | undefined>>, fail?: { path: string; error: Error }): DistributionClient => ({
  ping: async () => {},
  serverTime: async () => Date.parse('2026-05-01T10:00:00.750Z'),
  catalog: async () => Object.keys(repos),
  tags: async (path) => {
    if (fail?.path === path) throw fail.error;
    return Object.keys(repos[path] ?? {});
  },
  manifestDigest: async (path, tag) => repos[path]?.[tag],
});

describe('listing a Docker Registry', () => {
  it('groups repositories into spaces by first segment, one-segment names into library, with every tag’s digest', async () => {
    const progress: ListingProgress[] = [];
    const listing = await listDistribution(
      distribution({ alpine: { '3.20': d(1) }, 'library/alpine': { latest: d(2) }, 'team/sub/app': { '1.0': d(3), gone: undefined }, 'team/empty': {} }),
      { onProgress: (p) => progress.push(p) },
    );
    // The registry's clock, floored to the second its Date header has.
    expect(listing.startedAt).toBe(Date.parse('2026-05-01T10:00:00Z'));
    expect(listing.spaces).toEqual([
      { name: 'library', repositories: [{ path: 'alpine', tags: [{ tag: '3.20', digest: d(1) }] }, { path: 'library/alpine', tags: [{ tag: 'latest', digest: d(2) }] }] },
      // A tag deleted between tags/list and its HEAD is left out; an emptied repository stays listed, empty.
      { name: 'team', repositories: [{ path: 'team/sub/app', tags: [{ tag: '1.0', digest: d(3) }] }, { path: 'team/empty', tags: [] }] },
    ]);
    expect(progress.filter((p) => p.phase === 'repositories').at(-1)).toEqual({ phase: 'repositories', done: 4, total: 4 });
    expect(progress.filter((p) => p.phase === 'tags').at(-1)).toEqual({ phase: 'tags', done: 4, total: 4 });
    expect(progress[0]).toEqual({ phase: 'repositories', done: 0, total: 4 });
  });

  it('fails as a whole when one call fails: a partial listing must not read as deletions', async () => {
    const error = new RegistryCallError('unavailable', 'registry unavailable GET /v2/b/tags/list: 503');
    await expect(listDistribution(distribution({ a: { v: d(1) }, b: { v: d(2) } }, { path: 'b', error }))).rejects.toBe(error);
  });
});

describe('listing a Harbor', () => {
  let harbor: FakeHarbor;
  beforeAll(async () => {
    harbor = await startFakeHarbor();
    harbor.state.addProject('apps', { public: true });
    harbor.state.addArtifact('apps', 'web', fakeDigest('w1'), ['v1'], new Date(1_000));
    harbor.state.addArtifact('apps', 'web', fakeDigest('w2'), ['v2', 'latest'], new Date(2_000));
    harbor.state.addProject('team', { public: false });
    harbor.state.addArtifact('team', 'svc/api', fakeDigest('a'), ['1'], new Date(3_000));
  });
  afterAll(() => harbor.close());

  it('takes each project’s visibility and every tag of every artifact, with its push time', async () => {
    const listing = await listHarbor(createHarborClient({ url: harbor.url, credentials: harbor.credentials, pageSize: 1 }));
    expect(listing.unreadable).toEqual([]);
    expect(listing.spaces).toEqual([
      {
        name: 'apps',
        visibility: 'public',
        repositories: [
          {
            path: 'apps/web',
            tags: [
              { tag: 'v2', digest: fakeDigest('w2'), pushedAt: 2_000 },
              { tag: 'latest', digest: fakeDigest('w2'), pushedAt: 2_000 },
              { tag: 'v1', digest: fakeDigest('w1'), pushedAt: 1_000 },
            ],
          },
        ],
      },
      { name: 'library', visibility: 'public', repositories: [] },
      { name: 'team', visibility: 'private', repositories: [{ path: 'team/svc/api', tags: [{ tag: '1', digest: fakeDigest('a'), pushedAt: 3_000 }] }] },
    ]);
  });

  it('reports a project the credentials may not read instead of listing it as empty, and leaves out one that vanished', async () => {
    const real = createHarborClient({ url: harbor.url, credentials: harbor.credentials });
    const client = {
      ...real,
      listRepositories: async (project: string) => {
        if (project === 'team') throw new RegistryCallError('refused', 'Harbor refused: 403 FORBIDDEN: forbidden', 403);
        if (project === 'library') throw new RegistryCallError('not-found', 'Harbor refused: 404 NOT_FOUND', 404);
        return real.listRepositories(project);
      },
    };
    const listing = await listHarbor(client);
    expect(listing.spaces.map((s) => s.name)).toEqual(['apps']);
    expect(listing.unreadable).toEqual([{ name: 'team', reason: expect.stringContaining('403') }]);
  });

  it('keeps a covering webhook policy, rewrites ours when it drifted, creates it when missing', async () => {
    const target = { kind: 'harbor' as const, url: harbor.url, credentials: harbor.credentials };
    const policy = { name: 'platform-image-registry-reg-x', url: 'http://svc.test/webhooks/harbor/reg-x', authHeader: 'Bearer s1', eventTypes: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'] };
    expect(await httpRegistryApi.ensureWebhookPolicy(target, 'apps', policy)).toBe('created');
    expect(await httpRegistryApi.ensureWebhookPolicy(target, 'apps', policy)).toBe('unchanged');
    expect(await httpRegistryApi.ensureWebhookPolicy(target, 'apps', { ...policy, authHeader: 'Bearer s2' })).toBe('updated');
    const apps = harbor.state.findProject('apps', true)?.projectId ?? -1;
    expect(harbor.state.policiesOf(apps)).toEqual([
      expect.objectContaining({ name: policy.name, enabled: true, targets: [expect.objectContaining({ address: policy.url, auth_header: 'Bearer s2' })] }),
    ]);
    // A policy someone else made that already posts the same to us covers the project too.
    expect(await httpRegistryApi.ensureWebhookPolicy(target, 'apps', { ...policy, name: 'another-name', authHeader: 'Bearer s2' })).toBe('unchanged');
    expect(await httpRegistryApi.projectExists(target, 'apps')).toBe(true);
    expect(await httpRegistryApi.projectExists(target, 'nope')).toBe(false);
    expect(await httpRegistryApi.projectExists({ kind: 'harbor', url: harbor.url }, 'team')).toBeUndefined();
  });
});

describe('mapLimit', () => {
  it('keeps order, never runs more than the limit at once, and stops starting work after a failure', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});
