import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHarborClient } from '../../shared/registries/harbor-client.ts';
import {
  durationToLast,
  httpRegistryApi,
  pullPermissions,
  robotMatches,
  type HarborRobot,
  type RegistryTarget,
  type RobotSpec,
} from '../../shared/registries/registry-api.ts';
import { startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { failureOf } from '../helpers/failures.ts';

const DAY_MS = 86_400_000;
let harbor: FakeHarbor;
let target: RegistryTarget;
const api = httpRegistryApi;
const spec = (projects: string[], over: Partial<RobotSpec> = {}): RobotSpec => ({
  name: 'platform-registry-team-a',
  description: 'pull access of workspace team-a',
  durationDays: 90,
  projects,
  ...over,
});
const robotRequests = (method: string) => harbor.requests.filter((r) => r.method === method && r.path.startsWith('/api/v2.0/robots'));
/** The secret this service sent in its last `PATCH /robots/{id}`. */
const lastSentSecret = () => {
  const body = robotRequests('PATCH').at(-1)?.body;
  return body && typeof body === 'object' && 'secret' in body && typeof body.secret === 'string' ? body.secret : '';
};
const getOrThrow = async (id: number) => {
  const robot = await api.getRobot(target, id);
  if (!robot) throw new Error(`robot ${id} is gone`);
  return robot;
};

beforeEach(async () => {
  harbor = await startFakeHarbor();
  target = { kind: 'harbor', url: harbor.url, credentials: harbor.credentials };
  for (const name of ['team-a', 'team-b', 'team-c']) harbor.state.addProject(name);
  harbor.state.addProject('shared', { public: true });
});
afterEach(async () => {
  await harbor.close();
});

describe('Harbor robots through the RegistryApi', () => {
  it('creates an enabled system robot, pull-only on exactly the projects asked, whose secret pulls them and nothing else', async () => {
    const created = await api.createRobot(target, spec(['team-b', 'team-a', 'team-a']));
    expect(robotRequests('POST')[0]?.body).toEqual({
      name: 'platform-registry-team-a',
      description: 'pull access of workspace team-a',
      level: 'system',
      disable: false,
      duration: 90,
      permissions: [
        { kind: 'project', namespace: 'team-a', access: [{ resource: 'repository', action: 'pull' }, { resource: 'artifact', action: 'read' }] },
        { kind: 'project', namespace: 'team-b', access: [{ resource: 'repository', action: 'pull' }, { resource: 'artifact', action: 'read' }] },
      ],
    });
    expect(created).toEqual({ id: expect.any(Number), name: 'robot$platform-registry-team-a', secret: expect.any(String), expiresAt: expect.any(Number) });
    expect(Math.abs((created.expiresAt ?? 0) * 1000 - (Date.now() + 90 * DAY_MS))).toBeLessThan(5000);
    expect(harbor.robotCanPull(created.name, created.secret, 'team-a')).toBe(true);
    expect(harbor.robotCanPull(created.name, created.secret, 'team-b')).toBe(true);
    expect(harbor.robotCanPull(created.name, created.secret, 'team-c')).toBe(false);
    expect(harbor.robotCanPull(created.name, `${created.secret}x`, 'team-a')).toBe(false);
    // A public project needs no robot at all.
    expect(harbor.robotCanPull('anyone', '', 'shared')).toBe(true);
  });

  it('reads a robot back as Harbor shows it, matching the projects it was made for, and answers undefined for one Harbor does not have', async () => {
    const { id } = await api.createRobot(target, spec(['team-a', 'team-b']));
    const robot = await getOrThrow(id);
    expect(robot).toEqual({
      id,
      name: 'robot$platform-registry-team-a',
      level: 'system',
      disabled: false,
      description: 'pull access of workspace team-a',
      duration: 90,
      expiresAt: expect.any(Number),
      creationTime: expect.stringMatching(/Z$/),
      permissions: pullPermissions(['team-a', 'team-b']),
    });
    expect(robotMatches(robot, ['team-b', 'team-a'])).toBe(true);
    expect(robotMatches(robot, ['team-a'])).toBe(false);
    expect(await api.getRobot(target, id + 100)).toBeUndefined();
  });

  it('lists only system robots whose name starts with the prefix, across pages, asking Harbor to narrow the list', async () => {
    for (const team of ['a', 'b', 'c', 'd', 'e']) await api.createRobot(target, spec(['team-a'], { name: `platform-registry-team-${team}` }));
    await api.createRobot(target, spec(['team-a'], { name: 'ci-pusher' }));
    // Harbor's fuzzy match finds this one too: the prefix is checked here as well.
    await api.createRobot(target, spec(['team-a'], { name: 'old-platform-registry-x' }));
    // A project robot of the same name is no system robot.
    const [first] = harbor.state.robots();
    if (first) harbor.state.addRobot({ ...first, name: 'team-a+platform-registry-team-z', level: 'project', projectId: 1 });
    const client = createHarborClient({ url: harbor.url, credentials: harbor.credentials, pageSize: 2 });
    const listed = await client.listRobots('platform-registry-');
    expect(listed.map((r) => r.name)).toEqual(['a', 'b', 'c', 'd', 'e'].map((t) => `robot$platform-registry-team-${t}`));
    const pages = robotRequests('GET');
    expect(pages[0]?.query.get('q')).toBe('Level=system,name=~platform-registry-');
    // Six match Harbor's fuzzy query (five plus old-platform-registry-x): three pages of two.
    expect(pages.map((r) => r.query.get('page'))).toEqual(['1', '2', '3']);
    expect((await api.listRobots(target, '')).map((r) => r.name)).toHaveLength(7);
  });

  it('replaces the permissions with a PUT of the robot as read, keeping its name, level and expiry', async () => {
    const { id, name, secret, expiresAt } = await api.createRobot(target, spec(['team-a']));
    const robot = await getOrThrow(id);
    await api.updateRobot(target, robot, spec(['team-a', 'team-c'], { durationDays: robot.duration ?? 0 }));
    expect(robotRequests('PUT')[0]?.body).toEqual({
      id,
      name,
      level: 'system',
      description: 'pull access of workspace team-a',
      duration: 90,
      disable: false,
      permissions: pullPermissions(['team-a', 'team-c']),
    });
    const after = await getOrThrow(id);
    expect(robotMatches(after, ['team-a', 'team-c'])).toBe(true);
    expect(after.expiresAt).toBe(expiresAt);
    expect(harbor.robotCanPull(name, secret, 'team-c')).toBe(true);
    await api.updateRobot(target, after, spec(['team-c'], { durationDays: 90 }));
    expect(harbor.robotCanPull(name, secret, 'team-a')).toBe(false);
  });

  it('extends an old robot’s life with durationToLast: Harbor counts the duration from the robot’s creation', async () => {
    const { id, name, secret } = await api.createRobot(target, spec(['team-a'], { durationDays: 90 }));
    const created = new Date(Date.now() - 100.5 * DAY_MS);
    harbor.editRobot(id, { creationTime: created, expiresAt: Math.floor((created.getTime() + 90 * DAY_MS) / 1000) });
    expect(harbor.robotCanPull(name, secret, 'team-a')).toBe(false);
    const robot = await getOrThrow(id);
    const durationDays = durationToLast(robot.creationTime ?? '', Date.now(), 90);
    expect(durationDays).toBe(101 + 90);
    await api.updateRobot(target, robot, spec(['team-a'], { durationDays }));
    const after = await getOrThrow(id);
    expect((after.expiresAt ?? 0) * 1000).toBeGreaterThanOrEqual(Date.now() + 90 * DAY_MS - 1000);
    expect((after.expiresAt ?? 0) * 1000).toBeLessThanOrEqual(Date.now() + 91 * DAY_MS);
    expect(harbor.robotCanPull(name, secret, 'team-a')).toBe(true);
  });

  it('refreshes the secret with a strong one of ours: the old secret stops pulling, the new one pulls', async () => {
    const { id, name, secret: old } = await api.createRobot(target, spec(['team-a']));
    const secret = await api.refreshRobotSecret(target, id);
    expect(secret).toBe(lastSentSecret());
    expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(secret).toMatch(/[A-Z]/);
    expect(secret).toMatch(/[a-z]/);
    expect(secret).toMatch(/\d/);
    expect(harbor.robotCanPull(name, secret, 'team-a')).toBe(true);
    expect(harbor.robotCanPull(name, old, 'team-a')).toBe(false);
    expect(await api.refreshRobotSecret(target, id)).not.toBe(secret);
  });

  it('deletes a robot, and counts one Harbor no longer has as deleted', async () => {
    const { id, name, secret } = await api.createRobot(target, spec(['team-a']));
    await api.deleteRobot(target, id);
    expect(harbor.robots()).toEqual([]);
    expect(harbor.robotCanPull(name, secret, 'team-a')).toBe(false);
    await expect(api.deleteRobot(target, id)).resolves.toBeUndefined();
    // The client itself tells the difference.
    expect(await failureOf(createHarborClient({ url: harbor.url, credentials: harbor.credentials }).deleteRobot(id))).toMatchObject({ kind: 'not-found', status: 404 });
  });
});

describe('what Harbor refuses, as kinds', () => {
  it('reports a robot name that is taken as a conflict', async () => {
    await api.createRobot(target, spec(['team-a']));
    const error = await failureOf(api.createRobot(target, spec(['team-b'])));
    expect(error).toMatchObject({ kind: 'conflict', status: 409 });
    expect(error.message).toBe('Harbor refused: 409 CONFLICT: robot account platform-registry-team-a already exists');
  });

  it('reports credentials that may not manage robots as refused (403) on every write, with Harbor reason', async () => {
    const { id } = await api.createRobot(target, spec(['team-a']));
    const robot = await getOrThrow(id);
    harbor.setRobotAccess('read');
    for (const call of [
      api.createRobot(target, spec(['team-a'], { name: 'another' })),
      api.updateRobot(target, robot, spec(['team-b'])),
      api.refreshRobotSecret(target, id),
      api.deleteRobot(target, id),
    ]) {
      const error = await failureOf(call);
      expect(error).toMatchObject({ kind: 'refused', status: 403 });
      expect(error.message).toBe('Harbor refused: 403 FORBIDDEN: forbidden');
    }
    expect((await api.listRobots(target, 'platform-registry-')).map((r) => r.id)).toEqual([id]);
    expect(robotMatches(await getOrThrow(id), ['team-a'])).toBe(true);
    harbor.setRobotAccess('none');
    expect(await failureOf(api.listRobots(target, 'platform-registry-'))).toMatchObject({ kind: 'refused', status: 403 });
  });

  it('reports a robot Harbor does not have as not found on update and refresh', async () => {
    const { id } = await api.createRobot(target, spec(['team-a']));
    const robot = await getOrThrow(id);
    harbor.removeRobot(id);
    expect(await failureOf(api.updateRobot(target, robot, spec(['team-a'])))).toMatchObject({ kind: 'not-found', status: 404 });
    expect(await failureOf(api.refreshRobotSecret(target, id))).toMatchObject({ kind: 'not-found', status: 404 });
  });

  it('reports a project Harbor does not have as not found, as Harbor’s robot controller does', async () => {
    const error = await failureOf(api.createRobot(target, spec(['team-a', 'ghost'])));
    expect(error).toMatchObject({ kind: 'not-found', status: 404 });
    expect(error.message).toContain('project ghost not found');
    expect(harbor.robots()).toEqual([]);
  });

  it('reports a PUT that would rename the robot as refused', async () => {
    const { id } = await api.createRobot(target, spec(['team-a']));
    const robot = await getOrThrow(id);
    const error = await failureOf(api.updateRobot(target, { ...robot, name: 'robot$other' }, spec(['team-a'])));
    expect(error).toMatchObject({ kind: 'refused', status: 400 });
    expect(error.message).toContain('cannot update the level or name of robot');
  });

  it('reports wrong credentials as unauthorized', async () => {
    const error = await failureOf(api.listRobots({ ...target, credentials: { username: 'admin', password: 'wrong' } }, 'platform-'));
    expect(error).toMatchObject({ kind: 'unauthorized', status: 401 });
  });

  it('reports a Harbor down as unavailable for as long as it is, then works again', async () => {
    await api.createRobot(target, spec(['team-a']));
    harbor.failRobots(2);
    expect(await failureOf(api.listRobots(target, 'platform-'))).toMatchObject({ kind: 'unavailable', status: 503 });
    expect(await failureOf(api.refreshRobotSecret(target, 1))).toMatchObject({ kind: 'unavailable', status: 503 });
    expect(await api.listRobots(target, 'platform-')).toHaveLength(1);
  });

  it('refuses, without asking Harbor, a robot it must not ask for', async () => {
    for (const bad of [
      spec([]),
      spec(['*']),
      spec(['team-a'], { name: 'Platform Registry' }),
      spec(['team-a'], { durationDays: 0 }),
      spec(['team-a'], { durationDays: 1.5 }),
      spec(Array.from({ length: 1001 }, (_, i) => `p${i}`)),
    ])
      expect(await failureOf(api.createRobot(target, bad))).toMatchObject({ kind: 'refused', status: undefined });
    expect(await failureOf(api.listRobots(target, 'a,Level=project'))).toMatchObject({ kind: 'refused' });
    expect(await failureOf(api.getRobot(target, -1))).toMatchObject({ kind: 'refused' });
    expect(robotRequests('POST')).toEqual([]);
    expect(robotRequests('GET')).toEqual([]);
  });
});

describe('secrets stay out of messages', () => {
  it('never puts a robot secret into a failure’s message', async () => {
    const { id, secret } = await api.createRobot(target, spec(['team-a']));
    harbor.setRobotAccess('read');
    const refused = await failureOf(api.refreshRobotSecret(target, id));
    harbor.setRobotAccess('manage');
    harbor.failRobots(1);
    const down = await failureOf(api.refreshRobotSecret(target, id));
    for (const error of [refused, down]) {
      const sent = lastSentSecret();
      expect(sent).toHaveLength(32);
      for (const s of [secret, sent]) {
        expect(error.message).not.toContain(s);
        expect(String(error)).not.toContain(s);
        expect(JSON.stringify(error)).not.toContain(s);
      }
    }
  });

  describe('from a Harbor whose answers break the contract', () => {
    let server: Server;
    let url: string;
    let answer = { status: 200, body: '{}' };
    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume();
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      url = `http://127.0.0.1:${address.port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('leaves the body out of the message when a created robot’s answer cannot be read', async () => {
      answer = { status: 201, body: JSON.stringify({ id: 'seven', name: 'robot$x', secret: 'Leaked0Secret0Value' }) };
      const error = await failureOf(createHarborClient({ url }).createRobot(spec(['team-a'])));
      expect(error).toMatchObject({ kind: 'unavailable', status: 201 });
      expect(error.message).toBe('Harbor answered POST /api/v2.0/robots with an unexpected body');
      expect(JSON.stringify(error)).not.toContain('Leaked0Secret0Value');
      expect(error.cause).toBeUndefined();
    });

    it('returns the secret Harbor answers when it sends one, and ours when it sends none', async () => {
      answer = { status: 200, body: JSON.stringify({ secret: 'Harbor0Made0Secret' }) };
      expect(await createHarborClient({ url }).refreshRobotSecret(7)).toBe('Harbor0Made0Secret');
      answer = { status: 200, body: JSON.stringify({ secret: '' }) };
      expect(await createHarborClient({ url }).refreshRobotSecret(7)).toMatch(/^[A-Za-z0-9]{32}$/);
      answer = { status: 200, body: '' };
      expect(await createHarborClient({ url }).refreshRobotSecret(7)).toMatch(/^[A-Za-z0-9]{32}$/);
    });
  });
});

describe('robotMatches', () => {
  const robot = (over: Partial<HarborRobot> = {}): HarborRobot => ({
    id: 1,
    name: 'robot$platform-registry-team-a',
    level: 'system',
    disabled: false,
    permissions: pullPermissions(['team-a', 'team-b']),
    ...over,
  });
  const pull = { resource: 'repository', action: 'pull' };
  const read = { resource: 'artifact', action: 'read' };

  it('matches exactly the pull permissions, in any order, with Harbor’s allow effect', () => {
    expect(robotMatches(robot(), ['team-b', 'team-a'])).toBe(true);
    const shuffled = [
      { kind: 'project', namespace: 'team-b', access: [{ ...read, effect: 'allow' }, pull] },
      { kind: 'project', namespace: 'team-a', access: [read, { ...pull, effect: 'allow' }] },
    ];
    expect(robotMatches(robot({ permissions: shuffled }), ['team-a', 'team-b'])).toBe(true);
  });

  it('refuses an extra action, an extra or missing project, another kind, a disabled robot, any * and a deny', () => {
    const a = { kind: 'project', namespace: 'team-a', access: [pull, read] };
    const b = { kind: 'project', namespace: 'team-b', access: [pull, read] };
    const cases: [string, Partial<HarborRobot>][] = [
      ['extra action', { permissions: [{ ...a, access: [...a.access, { resource: 'repository', action: 'push' }] }, b] }],
      ['missing action', { permissions: [{ ...a, access: [pull] }, b] }],
      ['extra project', { permissions: [a, b, ...pullPermissions(['team-c'])] }],
      ['missing project', { permissions: [a] }],
      ['other kind', { permissions: [a, { ...b, kind: 'system', namespace: '/' }] }],
      ['disabled', { disabled: true }],
      ['* namespace', { permissions: [a, b, { ...a, namespace: '*' }] }],
      ['* action', { permissions: [{ ...a, access: [...a.access, { resource: 'repository', action: '*' }] }, b] }],
      ['deny', { permissions: [{ ...a, access: [{ ...pull, effect: 'deny' }, read] }, b] }],
    ];
    for (const [what, over] of cases) expect({ what, matches: robotMatches(robot(over), ['team-a', 'team-b']) }).toEqual({ what, matches: false });
  });

  it('asks for sorted, deduplicated projects', () => {
    expect(pullPermissions(['b', 'a', 'b']).map((p) => p.namespace)).toEqual(['a', 'b']);
  });
});

describe('durationToLast', () => {
  const now = Date.UTC(2026, 5, 1);
  it('adds the whole days since creation, rounded up, to the days wanted', () => {
    expect(durationToLast(new Date(now).toISOString(), now, 90)).toBe(90);
    expect(durationToLast(new Date(now - 10 * DAY_MS).toISOString(), now, 90)).toBe(100);
    expect(durationToLast(new Date(now - 10.2 * DAY_MS).toISOString(), now, 90)).toBe(101);
    // A creation time ahead of our clock counts as now.
    expect(durationToLast(new Date(now + DAY_MS).toISOString(), now, 30)).toBe(30);
    expect(durationToLast('whenever', now, -1)).toBe(-1);
  });

  it('refuses a creation time that is no time and days Harbor would refuse', () => {
    expect(() => durationToLast('', now, 90)).toThrow(RangeError);
    expect(() => durationToLast(new Date(now).toISOString(), now, 0)).toThrow(RangeError);
    expect(() => durationToLast(new Date(now).toISOString(), now, 2.5)).toThrow(RangeError);
  });
});
