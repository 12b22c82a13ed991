import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDistributionClient, type DistributionClient } from '../../shared/registries/distribution-client.ts';
import { createHarborClient } from '../../shared/registries/harbor-client.ts';
import { listDistribution, listHarbor, type ListingProgress } from '../../shared/registries/listing.ts';
import { mapLimit } from '../../shared/registries/pool.ts';
import { httpRegistryApi } from '../../shared/registries/registry-api.ts';
import { RegistryCallError } from '../../shared/registries/registry-error.ts';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

/** A Docker Registry as its API answers: `_catalog`, `tags/list`, HEAD manifest. */
const distribution = (repos: Record<string, Record<string, string | undefined>>, fail?: { path: string; error: Error }): Omit<DistributionClient, 'manifestDetails'> => ({
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

/** An answer of a hand-written registry: status, JSON body (or none), headers. */
type Answer = { status?: number; body?: unknown; headers?: Record<string, string> };
const servers: Server[] = [];
/** A registry on 127.0.0.1 answering `route(method, path)`; 404 for what it does not know. */
const serveRoutes = async (route: (method: string, path: string) => Answer | undefined) => {
  const server = createServer((req, res) => {
    const answer = route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname) ?? { status: 404, body: { errors: [{ code: 'NAME_UNKNOWN', message: 'unknown' }] } };
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return `http://127.0.0.1:${address.port}`;
};
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('listing a Docker Registry over HTTP that holds what the product cannot take', () => {
  const denied = { status: 403, body: { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] } };
  /** `repos`: the tags of each repository, or the answer its tags/list (or its manifest HEADs) give. */
  const registry = (catalog: string[], repos: Record<string, string[] | Answer | { head: Answer; tags: string[] }>, catalogAnswer?: Answer) =>
    serveRoutes((method, path) => {
      if (path === '/v2/') return { body: {} };
      if (path === '/v2/_catalog') return catalogAnswer ?? { body: { repositories: catalog } };
      const tagsList = /^\/v2\/(.+)\/tags\/list$/.exec(path);
      const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
      const repo = repos[tagsList?.[1] ?? manifest?.[1] ?? ''];
      if (!repo) return undefined;
      if (tagsList) return Array.isArray(repo) ? { body: { name: tagsList[1], tags: repo } } : 'head' in repo ? { body: { name: tagsList[1], tags: repo.tags } } : repo;
      if (method === 'HEAD' && manifest) return 'head' in repo ? repo.head : { headers: { 'docker-content-digest': d(manifest[2]?.length ?? 0) } };
      return undefined;
    });

  it('leaves out and reports names it cannot take and repositories it may not read, and lists the rest', async () => {
    const url = await registry(['alpine', 'Bad_Name', 'team/app', '-x/app', 'my--team/app', 'team/locked', 'team/headless', 'team/app'], {
      alpine: ['3.20', 'bad tag'],
      'team/app': ['1.0'],
      'team/locked': denied,
      'team/headless': { head: denied, tags: ['v1'] },
    });
    const listing = await listDistribution(createDistributionClient({ url }));
    expect(listing.spaces).toEqual([
      { name: 'library', repositories: [{ path: 'alpine', tags: [{ tag: '3.20', digest: d(4) }] }] },
      { name: 'team', repositories: [{ path: 'team/app', tags: [{ tag: '1.0', digest: d(3) }] }] },
    ]);
    expect(listing.skipped).toEqual([
      { name: 'Bad_Name', reason: 'not a valid repository name' },
      { name: '-x/app', reason: 'not a valid repository name' },
      { name: 'my--team/app', reason: 'its space "my--team" is not a valid space name' },
      { name: 'alpine:bad tag', reason: 'not a valid tag' },
    ]);
    expect(listing.unreadableRepositories).toEqual([
      { path: 'team/locked', reason: expect.stringContaining('403 DENIED') },
      { path: 'team/headless', reason: expect.stringContaining('403') },
    ]);
    expect(listing.unreadable).toEqual([]);
  });

  it('still fails as a whole when the registry itself refuses or is down', async () => {
    const unauthorized = { status: 401, body: { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] } };
    const down = { status: 503, body: { errors: [{ code: 'UNAVAILABLE', message: 'maintenance' }] } };
    await expect(listDistribution(createDistributionClient({ url: await registry([], {}, unauthorized) }))).rejects.toMatchObject({ kind: 'unauthorized' });
    await expect(listDistribution(createDistributionClient({ url: await registry([], {}, down) }))).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(listDistribution(createDistributionClient({ url: await registry(['a', 'b'], { a: ['1'], b: down }) }))).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(listDistribution(createDistributionClient({ url: await registry(['a', 'b'], { a: ['1'], b: unauthorized }) }))).rejects.toMatchObject({ kind: 'unauthorized' });
  });
});

describe('listing a Harbor over HTTP that holds what the product cannot take', () => {
  it('reports repositories whose artifacts it cannot read, lists a tag with an invalid push time without one, and skips invalid names', async () => {
    const url = await serveRoutes((_method, path) => {
      const api = path.replace(/^\/api\/v2\.0/, '');
      if (api === '/ping') return { body: 'Pong' };
      if (api === '/projects') return { body: [{ project_id: 1, name: 'apps', metadata: { public: 'true' } }, { project_id: 2, name: 'Bad_Project' }] };
      if (api === '/projects/apps/repositories')
        return { body: [{ name: 'apps/web' }, { name: 'apps/broken' }, { name: 'apps/locked' }, { name: 'apps/Bad' }, { name: 'other/x' }] };
      if (api === '/projects/apps/repositories/web/artifacts')
        return {
          body: [
            {
              digest: d(1),
              push_time: '2024-01-01T00:00:00Z',
              tags: [
                { name: 'v1', push_time: '2024-01-01T00:00:00Z' },
                { name: 'v2', push_time: 'not a time' },
              ],
            },
          ],
        };
      if (api === '/projects/apps/repositories/broken/artifacts') return { body: [{ digest: d(2), push_time: '2024-01-01T00:00:00Z', tags: [] }, { tags: [{ name: 'v9' }] }] };
      if (api === '/projects/apps/repositories/locked/artifacts') return { status: 403, body: { errors: [{ code: 'FORBIDDEN', message: 'forbidden' }] } };
      return undefined;
    });
    const listing = await listHarbor(createHarborClient({ url }));
    expect(listing.spaces).toEqual([
      {
        name: 'apps',
        visibility: 'public',
        repositories: [
          {
            path: 'apps/web',
            tags: [
              { tag: 'v1', digest: d(1), pushedAt: Date.parse('2024-01-01T00:00:00Z') },
              { tag: 'v2', digest: d(1) },
            ],
          },
        ],
      },
    ]);
    expect(listing.unreadable).toEqual([]);
    expect(listing.unreadableRepositories).toEqual([
      { path: 'apps/broken', reason: expect.stringContaining('artifact 2 of apps/broken') },
      { path: 'apps/locked', reason: expect.stringContaining('403 FORBIDDEN') },
    ]);
    expect(listing.skipped).toEqual([
      { name: 'Bad_Project', reason: 'not a valid space name' },
      { name: 'apps/Bad', reason: 'not a valid repository name' },
      { name: 'other/x', reason: 'not inside its project apps' },
      { name: 'apps/web:v2', reason: 'its push_time is not a valid time: listed without one' },
    ]);
  });
});

describe('listing a Harbor', () => {
  // The fake's artifacts: 1024 bytes, linux/amd64 in `extra_attrs`.
  const IMAGE = { size: 1024, platforms: ['linux/amd64'] };
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
              { tag: 'v2', digest: fakeDigest('w2'), pushedAt: 2_000, details: IMAGE },
              { tag: 'latest', digest: fakeDigest('w2'), pushedAt: 2_000, details: IMAGE },
              { tag: 'v1', digest: fakeDigest('w1'), pushedAt: 1_000, details: IMAGE },
            ],
          },
        ],
      },
      { name: 'library', visibility: 'public', repositories: [] },
      { name: 'team', visibility: 'private', repositories: [{ path: 'team/svc/api', tags: [{ tag: '1', digest: fakeDigest('a'), pushedAt: 3_000, details: IMAGE }] }] },
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
