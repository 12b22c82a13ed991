import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHarborClient } from '../../shared/registries/harbor-client.ts';
import { httpRegistryApi } from '../../shared/registries/registry-api.ts';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { failureOf } from '../helpers/failures.ts';

let harbor: FakeHarbor;
const admin = () => createHarborClient({ url: harbor.url, credentials: harbor.credentials });


const requestsTo = (method: string, pathPart: string) => harbor.requests.filter((r) => r.method === method && r.path.includes(pathPart));

beforeEach(async () => {
  harbor = await startFakeHarbor();
});
afterEach(async () => {
  await harbor.close();
});

describe('reaching Harbor', () => {
  it('pings without sending credentials', async () => {
    await admin().ping();
    const [ping] = requestsTo('GET', '/api/v2.0/ping');
    expect(ping?.headers.authorization).toBeUndefined();
  });

  it('accepts the right credentials', async () => {
    await expect(admin().checkCredentials()).resolves.toBeUndefined();
    expect(requestsTo('GET', '/api/v2.0/systeminfo')[0]?.user).toBe('admin');
  });

  it('reports a wrong password as unauthorized although Harbor answers it as an anonymous caller', async () => {
    const client = createHarborClient({ url: harbor.url, credentials: { username: 'admin', password: 'wrong' } });
    // Harbor lists public projects to a caller whose credentials failed: a listing proves nothing.
    await expect(client.listProjects()).resolves.toEqual([{ name: 'library', projectId: 1, public: true }]);
    const error = await failureOf(client.checkCredentials());
    expect(error.kind).toBe('unauthorized');
  });

  it('reports a write without valid credentials as unauthorized with Harbor reason', async () => {
    const client = createHarborClient({ url: harbor.url, credentials: { username: 'admin', password: 'wrong' } });
    const error = await failureOf(client.createProject('team', false));
    expect(error).toMatchObject({ kind: 'unauthorized', status: 401 });
    expect(error.message).toBe('Harbor refused: 401 UNAUTHORIZED: unauthorized');
  });

  it('tells Harbor’s clock through the RegistryApi', async () => {
    const time = await httpRegistryApi.serverTime({ kind: 'harbor', url: harbor.url });
    expect(Math.abs((time ?? 0) - Date.now())).toBeLessThan(5000);
  });

  it('reports a Harbor answering 503 as unavailable', async () => {
    harbor.setDown(true);
    const error = await failureOf(admin().ping());
    expect(error).toMatchObject({ kind: 'unavailable', status: 503 });
    expect(error.message).toContain('service unavailable');
  });

  it('reports dropped connections as unavailable', async () => {
    harbor.setDown('reset');
    const error = await failureOf(admin().listProjects());
    expect(error.kind).toBe('unavailable');
    expect(error.status).toBeUndefined();
  });

  it('reports a Harbor slower than the timeout as unavailable', async () => {
    harbor.setDelay(300);
    const error = await failureOf(createHarborClient({ url: harbor.url, timeoutMs: 50 }).ping());
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(/did not answer GET \/api\/v2\.0\/ping within 50 ms/);
  });

  it('reports a closed port as unavailable', async () => {
    const url = harbor.url;
    await harbor.close();
    const error = await failureOf(createHarborClient({ url }).ping());
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(/ECONNREFUSED/);
    harbor = await startFakeHarbor();
  });
});

describe('projects', () => {
  it('creates a public project with metadata.public as the string Harbor expects', async () => {
    await admin().createProject('team-a', true);
    expect(requestsTo('POST', '/api/v2.0/projects')[0]?.body).toEqual({ project_name: 'team-a', metadata: { public: 'true' } });
    expect(harbor.state.projectByName('team-a')?.metadata.public).toBe('true');
    expect(await admin().getProject('team-a')).toMatchObject({ name: 'team-a', public: true });
  });

  it('creates a private project', async () => {
    await admin().createProject('team-b', false);
    expect(await admin().getProject('team-b')).toMatchObject({ name: 'team-b', public: false });
  });

  it('reports a duplicate project as a conflict with Harbor reason', async () => {
    await admin().createProject('team-a', false);
    const error = await failureOf(admin().createProject('team-a', true));
    expect(error).toMatchObject({ kind: 'conflict', status: 409 });
    expect(error.message).toBe('Harbor refused: 409 CONFLICT: The project named team-a already exists');
  });

  it('reports a name Harbor rejects as refused', async () => {
    const error = await failureOf(admin().createProject('Team_A', false));
    expect(error).toMatchObject({ kind: 'refused', status: 400 });
    expect(error.message).toContain('project name is not in lower case or contains illegal characters');
  });

  it('answers undefined for a project Harbor does not have', async () => {
    expect(await admin().getProject('nope')).toBeUndefined();
  });

  it('addresses a project whose name is a number by its name, not as an id', async () => {
    harbor.state.addProject('other');
    const numeric = harbor.state.addProject('2', { public: true });
    expect(harbor.state.findProject('2', false)?.name).toBe('other');
    expect(await admin().getProject('2')).toEqual({ name: '2', projectId: numeric.projectId, public: true });
  });

  it('switches a project between public and private by name', async () => {
    await admin().createProject('team-a', false);
    await admin().setProjectPublic('team-a', true);
    expect(harbor.state.projectByName('team-a')?.metadata.public).toBe('true');
    await admin().setProjectPublic('team-a', false);
    expect(harbor.state.projectByName('team-a')?.metadata.public).toBe('false');
    const puts = requestsTo('PUT', '/api/v2.0/projects/team-a');
    expect(puts.map((r) => r.headers['x-is-resource-name'])).toEqual(['true', 'true']);
    expect(puts[0]?.body).toEqual({ metadata: { public: 'true' } });
  });

  it('reports updating an unknown project as not found', async () => {
    const error = await failureOf(admin().setProjectPublic('ghost', true));
    expect(error).toMatchObject({ kind: 'not-found', status: 404 });
  });

  it('deletes an empty project', async () => {
    await admin().createProject('team-a', false);
    await admin().deleteProject('team-a');
    expect(harbor.state.projectByName('team-a')).toBeUndefined();
  });

  it('reports deleting a project that still has repositories as refused with Harbor reason', async () => {
    harbor.state.addProject('team-a');
    harbor.state.addArtifact('team-a', 'app', fakeDigest('1'), ['v1']);
    const error = await failureOf(admin().deleteProject('team-a'));
    expect(error).toMatchObject({ kind: 'refused', status: 412 });
    expect(error.message).toBe('Harbor refused: 412 PRECONDITION: precondition failed: the project contains repositories, can not be deleted');
    expect(harbor.state.projectByName('team-a')).toBeDefined();
  });

  it('lists every project across pages by following the Link header', async () => {
    for (let i = 0; i < 25; i++) harbor.state.addProject(`p${String(i).padStart(2, '0')}`, { public: i % 2 === 0 });
    const projects = await createHarborClient({ url: harbor.url, credentials: harbor.credentials, pageSize: 10 }).listProjects();
    expect(projects).toHaveLength(26);
    expect(new Set(projects.map((p) => p.name)).size).toBe(26);
    expect(projects.find((p) => p.name === 'p04')?.public).toBe(true);
    expect(projects.find((p) => p.name === 'p05')?.public).toBe(false);
    const pages = requestsTo('GET', '/api/v2.0/projects');
    expect(pages.map((r) => r.query.get('page'))).toEqual(['1', '2', '3']);
    expect(pages.every((r) => r.query.get('page_size') === '10')).toBe(true);
  });

  it('lists only public projects to an anonymous client', async () => {
    harbor.state.addProject('open', { public: true });
    harbor.state.addProject('closed');
    const names = (await createHarborClient({ url: harbor.url }).listProjects()).map((p) => p.name);
    expect(names).toEqual(['library', 'open']);
  });
});

describe('repositories and artifacts', () => {
  beforeEach(() => {
    harbor.state.addProject('team');
  });

  it('lists repositories with slashes in their names across pages', async () => {
    for (let i = 0; i < 12; i++) harbor.state.addArtifact('team', `group/app-${String(i).padStart(2, '0')}`, fakeDigest(`r${i}`), ['latest']);
    const repos = await createHarborClient({ url: harbor.url, credentials: harbor.credentials, pageSize: 5 }).listRepositories('team');
    expect(repos).toHaveLength(12);
    expect(repos[0]).toEqual({ name: 'team/group/app-00', repository: 'group/app-00' });
    expect(requestsTo('GET', '/projects/team/repositories')).toHaveLength(3);
  });

  it('lists the artifacts of a nested repository with their tags', async () => {
    const old = fakeDigest('old');
    const current = fakeDigest('current');
    harbor.state.addArtifact('team', 'group/app', old, ['1.0'], '2024-01-01T00:00:00Z');
    harbor.state.addArtifact('team', 'group/app', current, ['1.1', 'latest'], '2024-02-01T00:00:00Z');
    const artifacts = await admin().listArtifacts('team', 'group/app');
    expect(artifacts).toEqual([
      {
        digest: current,
        pushTime: '2024-02-01T00:00:00.000Z',
        tags: [
          { name: '1.1', pushTime: '2024-02-01T00:00:00.000Z' },
          { name: 'latest', pushTime: '2024-02-01T00:00:00.000Z' },
        ],
        // The fake's artifacts: 1024 bytes, linux/amd64 in `extra_attrs`.
        size: 1024,
        platform: 'linux/amd64',
      },
      { digest: old, pushTime: '2024-01-01T00:00:00.000Z', tags: [{ name: '1.0', pushTime: '2024-01-01T00:00:00.000Z' }], size: 1024, platform: 'linux/amd64' },
    ]);
    const [request] = requestsTo('GET', '/artifacts');
    expect(request?.path).toBe('/api/v2.0/projects/team/repositories/group%252Fapp/artifacts');
    expect(request?.query.get('with_tag')).toBe('true');
    expect(request?.query.get('with_scan_overview')).toBe('true');
  });

  it('gives an untagged artifact an empty tag list although Harbor sends null', async () => {
    const digest = fakeDigest('untagged');
    harbor.state.addArtifact('team', 'app', digest, []);
    expect(await admin().listArtifacts('team', 'app')).toEqual([{ digest, pushTime: expect.any(String), tags: [], size: 1024, platform: 'linux/amd64' }]);
  });

  it('lists artifacts across pages', async () => {
    for (let i = 0; i < 7; i++) harbor.state.addArtifact('team', 'app', fakeDigest(`a${i}`), [`v${i}`], new Date(Date.UTC(2024, 0, i + 1)));
    const artifacts = await createHarborClient({ url: harbor.url, credentials: harbor.credentials, pageSize: 3 }).listArtifacts('team', 'app');
    expect(artifacts.map((a) => a.tags[0]?.name)).toEqual(['v6', 'v5', 'v4', 'v3', 'v2', 'v1', 'v0']);
  });

  it('reports the artifacts of an unknown repository as not found', async () => {
    const error = await failureOf(admin().listArtifacts('team', 'ghost/app'));
    expect(error).toMatchObject({ kind: 'not-found', status: 404 });
    expect(error.message).toContain('repository team/ghost/app not found');
  });
});

describe('webhook policies', () => {
  beforeEach(() => {
    harbor.state.addProject('team');
  });

  it('creates an enabled HTTP policy that lists back with its target', async () => {
    const created = await admin().createWebhookPolicy('team', {
      name: 'platform',
      url: 'http://platform.example/webhooks/harbor/reg-1',
      authHeader: 'Bearer s3cret',
      eventTypes: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'],
      payloadFormat: 'CloudEvents',
    });
    const policies = await admin().listWebhookPolicies('team');
    expect(policies).toEqual([
      {
        id: created.id,
        name: 'platform',
        enabled: true,
        eventTypes: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'],
        targets: [{ type: 'http', address: 'http://platform.example/webhooks/harbor/reg-1', authHeader: 'Bearer s3cret', payloadFormat: 'CloudEvents' }],
      },
    ]);
    expect(created.id).toEqual(expect.any(Number));
  });

  it('uses the Default payload format unless told otherwise', async () => {
    await admin().createWebhookPolicy('team', { name: 'p', url: 'http://x.example/h', authHeader: 'Bearer a', eventTypes: ['PUSH_ARTIFACT'] });
    expect((await admin().listWebhookPolicies('team'))[0]?.targets[0]?.payloadFormat).toBe('Default');
  });

  it('reports a second policy with the same name as a conflict', async () => {
    const policy = { name: 'platform', url: 'http://x.example/h', authHeader: 'Bearer a', eventTypes: ['PUSH_ARTIFACT'] };
    await admin().createWebhookPolicy('team', policy);
    const error = await failureOf(admin().createWebhookPolicy('team', policy));
    expect(error).toMatchObject({ kind: 'conflict', status: 409 });
  });

  it('reports an event type Harbor does not know as refused', async () => {
    const error = await failureOf(
      admin().createWebhookPolicy('team', { name: 'p', url: 'http://x.example/h', authHeader: 'Bearer a', eventTypes: ['CREATE_TAG'] }),
    );
    expect(error).toMatchObject({ kind: 'refused', status: 400 });
    expect(error.message).toContain('unsupported event type CREATE_TAG');
  });

  it('keeps webhook policies from anonymous callers', async () => {
    const error = await failureOf(createHarborClient({ url: harbor.url }).listWebhookPolicies('team'));
    expect(error.kind).toBe('unauthorized');
  });
});

describe('answers Harbor would never give', () => {
  type Answer = { status: number; body: string; headers?: Record<string, string> };
  let answer: (path: string) => Answer = () => ({ status: 200, body: '[]' });
  const hits: { server: 'harbor' | 'elsewhere'; path: string; authorization?: string }[] = [];
  const servers: Server[] = [];
  let url: string;
  let elsewhere: string;

  const serve = async (name: 'harbor' | 'elsewhere') => {
    const server = createServer((req, res) => {
      hits.push({ server: name, path: req.url ?? '', authorization: req.headers.authorization });
      const { status, body, headers } = name === 'harbor' ? answer(req.url ?? '') : { status: 200, body: '[]', headers: {} };
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    return `http://127.0.0.1:${address.port}`;
  };

  beforeAll(async () => {
    url = await serve('harbor');
    elsewhere = await serve('elsewhere');
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('rejects a project list that does not match the contract as unavailable', async () => {
    answer = () => ({ status: 200, body: JSON.stringify([{ name: 'x' }]) });
    const error = await failureOf(createHarborClient({ url }).listProjects());
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('unexpected body');
  });

  it('never follows a next link to another origin, where the credentials would go', async () => {
    hits.length = 0;
    answer = () => ({
      status: 200,
      body: JSON.stringify([{ project_id: 1, name: 'a', metadata: { public: 'true' } }]),
      headers: { link: `<${elsewhere}/api/v2.0/projects?page=2&page_size=100>; rel="next"` },
    });
    const error = await failureOf(createHarborClient({ url, credentials: { username: 'u', password: 'p' } }).listProjects());
    expect(error.kind).toBe('unavailable');
    expect(hits.map((h) => h.server)).toEqual(['harbor']);
  });

  it('follows a relative next link on the same origin', async () => {
    hits.length = 0;
    answer = (path) =>
      path.includes('page=1&')
        ? {
            status: 200,
            body: JSON.stringify([{ project_id: 1, name: 'a', metadata: { public: 'true' } }]),
            headers: { link: '</api/v2.0/projects?page=2&page_size=100>; rel="next"' },
          }
        : { status: 200, body: JSON.stringify([{ project_id: 2, name: 'b', metadata: null }]) };
    const projects = await createHarborClient({ url }).listProjects();
    expect(projects.map((p) => p.name)).toEqual(['a', 'b']);
    expect(hits.map((h) => h.path)).toEqual(['/api/v2.0/projects?page=1&page_size=100', '/api/v2.0/projects?page=2&page_size=100']);
  });

  it('stops at an empty page even when it links a next one', async () => {
    hits.length = 0;
    answer = (path) =>
      path.includes('page=1&')
        ? {
            status: 200,
            body: JSON.stringify([{ project_id: 1, name: 'a', metadata: null }]),
            headers: { link: '</api/v2.0/projects?page=2&page_size=100>; rel="next"' },
          }
        : { status: 200, body: '[]', headers: { link: '</api/v2.0/projects?page=3&page_size=100>; rel="next"' } };
    expect((await createHarborClient({ url }).listProjects()).map((p) => p.name)).toEqual(['a']);
    expect(hits).toHaveLength(2);
  });

  it('reads artifacts whose push times are not valid times, and reports one it cannot read instead of failing the page', async () => {
    const digest = fakeDigest('ok');
    answer = () => ({
      status: 200,
      body: JSON.stringify([
        { digest, push_time: 'yesterday', tags: [{ name: 'v1', push_time: null }, { name: 'v2', push_time: '2024-03-01T10:00:00+02:00' }] },
        { digest: 42, push_time: '2024-03-01T10:00:00Z', tags: [{ name: 'v3' }] },
      ]),
    });
    const client = createHarborClient({ url });
    expect(await client.readArtifacts('team', 'app')).toEqual({
      artifacts: [{ digest, pushTime: undefined, tags: [{ name: 'v1', pushTime: undefined }, { name: 'v2', pushTime: '2024-03-01T08:00:00.000Z' }] }],
      unreadable: [expect.stringMatching(/^artifact 2 of team\/app is not what Harbor's API promises: .*digest/)],
    });
    // The strict form fails rather than hand out an incomplete list.
    expect(await failureOf(client.listArtifacts('team', 'app'))).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('artifact 2 of team/app') });
  });

  it('treats a metadata.public other than "true" as private', async () => {
    answer = () => ({ status: 200, body: JSON.stringify([{ project_id: 1, name: 'a', metadata: { public: 'TRUE' } }, { project_id: 2, name: 'b' }]) });
    expect((await createHarborClient({ url }).listProjects()).map((p) => p.public)).toEqual([false, false]);
  });
});
