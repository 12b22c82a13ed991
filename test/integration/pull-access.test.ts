import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { PullAccessSyncRequested, type BusEvent } from '../../events/index.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { httpRegistryApi, type RegistryApi, type RegistryTarget } from '../../shared/registries/registry-api.ts';
import { previewSpaceChange } from '../../shared/usecases/blast-radius.ts';
import { explainImage } from '../../shared/usecases/explain.ts';
import { rotateExpiringRobots, rotateWorkspacePullCredentials } from '../../shared/usecases/pull-access.ts';
import { getPullSecret } from '../../shared/usecases/pull-secret.ts';
import { reconcileRegistry } from '../../shared/usecases/reconcile.ts';
import { registerRegistry, removeRegistry } from '../../shared/usecases/registries.ts';
import { bindSpace, createSpace, deleteSpace, unbindSpace, updateSpace } from '../../shared/usecases/spaces.ts';
import { sweepPending, SWEEP_THRESHOLD_MS } from '../../shared/usecases/sweep.ts';
import { deleteNamespace, putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { ADMIN, consume, ctx, testDeps } from '../helpers/deps.ts';
import { startFakeHarbor } from '../helpers/fake-harbor.ts';
import { authsOf, pullMarks as pullMarksOf, robotName } from '../helpers/pull-secrets.ts';
import { createTestTable } from '../helpers/table.ts';

const DAY_MS = 86_400_000;
const admin: Claims = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };
/** What a pull-only robot holds on each project, as Harbor shows it. */
const PULL = [
  { resource: 'repository', action: 'pull' },
  { resource: 'artifact', action: 'read' },
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (x: number) => Math.round(x * 10) / 10;

/**
 * One Harbor registry (hosted, admin credentials) on a fake Harbor over HTTP, a fresh table, workspaces `team`,
 * `team-a`, `team-b` (`team` is a name prefix of the others: robots must never be confused), their namespaces in
 * cluster `prod`, private spaces a1 a2 b1 both, public space pub. The clock can be moved (`clock.offsetMs`).
 */
const world = async () => {
  const t = await createTestTable(inject('dynamoEndpoint'));
  const harbor = await startFakeHarbor();
  const clock = { offsetMs: 0 };
  const env = testDeps(t.store, { registryApi: httpRegistryApi, clock: () => new Date(Date.now() + clock.offsetMs) });
  const { deps, deliver, bus } = env;
  const { id } = await registerRegistry({ name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials }, deps, ctx);
  for (const ws of ['team', 'team-a', 'team-b']) await putWorkspace(ws, {}, deps, ctx);
  const namespaces = { 'ns-team': 'team', 'ns-a': 'team-a', 'ns-a2': 'team-a', 'ns-b': 'team-b' } as const;
  for (const [ns, ws] of Object.entries(namespaces)) await putNamespace('prod', ns, { workspaceId: ws }, deps, ctx);
  for (const name of ['a1', 'a2', 'b1', 'both']) await createSpace(id, { name, visibility: 'private' }, deps, ctx);
  await createSpace(id, { name: 'pub', visibility: 'public' }, deps, ctx);
  await deliver();

  const registry = async () => {
    const r = await t.store.registries.get(id);
    if (!r) throw new Error(`registry ${id} is gone`);
    return r;
  };
  const host = (await registry()).host;
  const target: RegistryTarget = { kind: 'harbor', url: harbor.url, credentials: harbor.credentials };
  const robotOf = (ws: string) => harbor.robots().find((r) => r.name === robotName(ws));
  const projectsOf = (ws: string) => robotOf(ws)?.permissions.map((p) => p.namespace).sort();
  const grant = (ws: string) => t.store.pullGrants.get(id, ws);
  const bind = async (space: string, ws: string) => {
    await bindSpace(id, space, ws, deps, ctx);
    await deliver();
  };
  const unbind = async (space: string, ws: string) => {
    await unbindSpace(id, space, ws, deps, ctx);
    await deliver();
  };
  const pullSecret = async (ns: string, claims = admin) => {
    const answer = await getPullSecret('prod', ns, { caller: claims, format: 'json' }, deps);
    if (answer.notModified) throw new Error('unexpected 304');
    return { etag: answer.etag, auths: authsOf(answer.text) };
  };
  /** The namespace's pull secret entry for this Harbor, if any. */
  const entryOf = async (ns: string) => (await pullSecret(ns)).auths[host];
  /** Whether `docker pull` with the namespace's pull secret gets `project` (a private one: only through a robot). */
  const canPull = async (ns: string, project: string) => {
    const entry = await entryOf(ns);
    return !!entry && harbor.robotCanPull(entry.username, entry.password, project);
  };
  const consumeAll = async (events: BusEvent[]) => {
    for (const e of events) await consume(e, deps);
  };
  /** The sweep as it runs after its threshold; delivers what it re-emits and returns those events. */
  const sweep = async () => {
    await deliver();
    await sweepPending({ ...deps, clock: () => new Date(Date.now() + clock.offsetMs + SWEEP_THRESHOLD_MS + 1000) });
    const emitted = [...bus.events];
    await deliver();
    return emitted;
  };
  const pullMarks = () => pullMarksOf(t.store);
  const reconcile = async () => {
    const report = await reconcileRegistry(await registry(), deps, ctx);
    await deliver();
    return report;
  };
  /**
   * Tenant isolation, at a converged point: a robot named like ours holds only private projects bound to its own
   * workspace; a namespace's pull secret names no robot but its own workspace's.
   */
  const isolated = async () => {
    for (const robot of harbor.robots()) {
      const ws = /^robot\$platform-registry\.(.+)$/.exec(robot.name)?.[1];
      if (!ws) continue;
      for (const p of robot.permissions) {
        expect(p.kind, `${robot.name} holds a ${p.kind} scope`).toBe('project');
        expect(await t.store.spaces.binding(id, p.namespace, ws), `${robot.name} holds ${p.namespace}, which is not bound to ${ws}`).toBeDefined();
        expect((await t.store.spaces.getLive(id, p.namespace))?.visibility, `${robot.name} holds public ${p.namespace}`).toBe('private');
      }
    }
    for (const ns of await t.store.tenancy.listNamespaces()) {
      const entry = (await pullSecret(ns.namespace)).auths[host];
      if (entry) expect(entry.username, `pull secret of ${ns.namespace} (${ns.workspaceId})`).toBe(robotName(ns.workspaceId ?? 'none'));
    }
  };
  const explainPull = async (ns: string, space: string) => (await explainImage('prod', ns, `${host}/${space}/app`, ADMIN, deps)).pullAccess;
  return {
    t, harbor, clock, env, deps, deliver, bus, id, host, target, registry, robotOf, projectsOf, grant, bind, unbind,
    pullSecret, entryOf, canPull, consumeAll, sweep, pullMarks, reconcile, isolated, explainPull,
    close: async () => {
      await harbor.close();
      await t.drop();
    },
  };
};

describe('pull access against a contract-faithful Harbor over HTTP, on DynamoDB Local', () => {
  let w: Awaited<ReturnType<typeof world>>;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    await w?.close();
  });

  it('keeps one robot per workspace with exactly its bound private projects: bind, a second bind, unbind, last unbind', async () => {
    await w.bind('a1', 'team-a');
    await w.bind('pub', 'team-a');
    expect(w.harbor.robots()).toHaveLength(1);
    const first = w.robotOf('team-a');
    expect(first).toMatchObject({ level: 'system', disable: false, permissions: [{ kind: 'project', namespace: 'a1', access: PULL }] });
    expect(await w.grant('team-a')).toMatchObject({ status: 'synced', projects: ['a1'], robot: { name: robotName('team-a'), projects: ['a1'] } });
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect(await w.canPull('ns-a', 'a2')).toBe(false);
    const secret = await w.entryOf('ns-a');

    await w.bind('a2', 'team-a');
    expect(w.robotOf('team-a')?.id).toBe(first?.id);
    expect(w.projectsOf('team-a')).toEqual(['a1', 'a2']);
    expect(await w.canPull('ns-a', 'a2')).toBe(true);
    // A change of projects keeps the secret every cluster already holds.
    expect(await w.entryOf('ns-a')).toEqual(secret);
    await w.isolated();
    expect(await w.pullMarks()).toEqual([]);

    await w.unbind('a1', 'team-a');
    expect(w.projectsOf('team-a')).toEqual(['a2']);
    expect(await w.canPull('ns-a', 'a1')).toBe(false);
    await w.unbind('a2', 'team-a');
    expect(w.harbor.robots()).toEqual([]);
    expect(await w.grant('team-a')).toBeUndefined();
    expect(await w.entryOf('ns-a')).toBeUndefined();
    expect(await w.pullMarks()).toEqual([]);
  });

  it('measures the time from unbindSpace to the project leaving the robot in Harbor', async () => {
    await w.bind('a1', 'team-a');
    await w.bind('a2', 'team-a');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await w.unbind('a2', 'team-a');
      times.push(performance.now() - started);
      expect(w.projectsOf('team-a')).toEqual(['a1']);
      await w.bind('a2', 'team-a');
      expect(w.projectsOf('team-a')).toEqual(['a1', 'a2']);
    }
    console.log('unbind→project gone from robot ms: median', ms(median(times)), 'max', ms(Math.max(...times)), 'n', times.length);
  });

  it('gives a public space no robot, and follows make-private, make-public and delete of a bound space', async () => {
    await w.bind('pub', 'team-a');
    expect(w.harbor.robots()).toEqual([]);
    expect(await w.grant('team-a')).toBeUndefined();
    expect(await w.entryOf('ns-a')).toBeUndefined();
    expect(w.harbor.robotCanPull('', '', 'pub')).toBe(true);

    await w.bind('a1', 'team-a');
    await updateSpace(w.id, 'pub', { visibility: 'private' }, w.deps, ctx);
    await w.deliver();
    expect(w.projectsOf('team-a')).toEqual(['a1', 'pub']);
    expect(await w.canPull('ns-a', 'pub')).toBe(true);
    expect(await w.canPull('ns-b', 'pub')).toBe(false);
    await w.isolated();

    await updateSpace(w.id, 'pub', { visibility: 'public' }, w.deps, ctx);
    await w.deliver();
    expect(w.projectsOf('team-a')).toEqual(['a1']);

    await w.bind('both', 'team-a');
    expect(w.projectsOf('team-a')).toEqual(['a1', 'both']);
    await deleteSpace(w.id, 'both', w.deps, ctx);
    await w.deliver();
    expect(w.projectsOf('team-a')).toEqual(['a1']);
    expect((await w.grant('team-a'))?.robot?.projects).toEqual(['a1']);
    await deleteSpace(w.id, 'a1', w.deps, ctx);
    await w.deliver();
    expect(w.robotOf('team-a')).toBeUndefined();
    expect(await w.grant('team-a')).toBeUndefined();
    await w.isolated();
    expect(await w.pullMarks()).toEqual([]);
  });

  it('Harbor down: the grant is failing with its mark kept, the sweep re-emits it, and it converges once Harbor is back', async () => {
    w.harbor.failRobots(1);
    await w.bind('a1', 'team-a');
    expect(await w.grant('team-a')).toMatchObject({ status: 'failing', projects: ['a1'], statusMessage: expect.stringContaining('503') });
    expect(w.harbor.robots()).toEqual([]);
    expect(await w.pullMarks()).toHaveLength(1);
    // Down is not a refusal: the registry's pull access is not marked unavailable.
    expect((await w.registry()).pullAccess?.status).not.toBe('unavailable');
    expect(await w.explainPull('ns-a', 'a1')).toMatchObject({ link: 'pull', holds: false, statement: expect.stringContaining('pending: Harbor did not answer') });

    w.harbor.setDown(true);
    const whileDown = await w.sweep();
    expect(whileDown.map((e) => e.detailType)).toContain(PullAccessSyncRequested.detailType);
    expect(await w.grant('team-a')).toMatchObject({ status: 'failing' });
    expect(await w.pullMarks()).toHaveLength(1);

    w.harbor.setDown(false);
    const back = await w.sweep();
    expect(back.filter((e) => e.detailType === PullAccessSyncRequested.detailType).map((e) => e.detail.data)).toEqual([
      expect.objectContaining({ registryId: w.id, workspaceId: 'team-a' }),
    ]);
    expect(await w.grant('team-a')).toMatchObject({ status: 'synced', robot: { projects: ['a1'] } });
    expect(w.projectsOf('team-a')).toEqual(['a1']);
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect(await w.pullMarks()).toEqual([]);
    // Nothing left for the sweep.
    expect((await w.sweep()).filter((e) => e.detailType === PullAccessSyncRequested.detailType)).toEqual([]);
  });

  it('recovers through the sweep when the process dies before publishing, before Harbor answers, or after Harbor created the robot', async () => {
    // Died after the binding was written, before its event was published: the event is lost.
    await bindSpace(w.id, 'a1', 'team-a', w.deps, ctx);
    w.bus.take();
    expect(w.harbor.robots()).toEqual([]);
    await w.sweep();
    expect(w.projectsOf('team-a')).toEqual(['a1']);

    // Died between the grant's pending write and Harbor.
    const died = () => Promise.reject(new Error('process died'));
    w.deps.registryApi = { ...httpRegistryApi, listRobots: died, getRobot: died };
    await bindSpace(w.id, 'b1', 'team-b', w.deps, ctx);
    await expect(w.consumeAll(w.bus.take())).rejects.toThrow('process died');
    expect(await w.grant('team-b')).toMatchObject({ status: 'pending', projects: ['b1'] });
    expect(await w.pullMarks()).toHaveLength(1);
    w.deps.registryApi = httpRegistryApi;
    await w.sweep();
    expect(w.projectsOf('team-b')).toEqual(['b1']);
    expect(await w.canPull('ns-b', 'b1')).toBe(true);

    // Died after Harbor created the robot, before its secret was stored: the robot is adopted by name, given a new secret.
    const api: RegistryApi = {
      ...httpRegistryApi,
      createRobot: async (target, spec) => {
        await httpRegistryApi.createRobot(target, spec);
        throw new Error('process died');
      },
    };
    w.deps.registryApi = api;
    await bindSpace(w.id, 'both', 'team', w.deps, ctx);
    await expect(w.consumeAll(w.bus.take())).rejects.toThrow('process died');
    const orphan = w.robotOf('team');
    expect(orphan).toBeDefined();
    expect((await w.grant('team'))?.robot).toBeUndefined();
    w.deps.registryApi = httpRegistryApi;
    await w.sweep();
    expect(w.harbor.robots().filter((r) => r.name === robotName('team'))).toEqual([expect.objectContaining({ id: orphan?.id })]);
    expect(await w.canPull('ns-team', 'both')).toBe(true);
    await w.isolated();
    expect(await w.pullMarks()).toEqual([]);
  });

  it('reads the spaces a change touches consistently: a lagging GSI1 neither keeps an unbound project nor drops a bound one', async () => {
    await w.bind('a1', 'team-a');
    // GSI1 stops at this moment (it shows a1 bound to team-a, and nothing else, whatever happens next).
    const real = w.t.store.spaces.bindingsOfWorkspace;
    const frozen = await real('team-a');
    w.deps.store = { ...w.t.store, spaces: { ...w.t.store.spaces, bindingsOfWorkspace: async (ws) => (ws === 'team-a' ? frozen : real(ws)) } };
    await w.unbind('a1', 'team-a');
    expect(w.robotOf('team-a')).toBeUndefined();
    await w.bind('a2', 'team-a');
    expect(w.projectsOf('team-a')).toEqual(['a2']);
    await w.bind('both', 'team-a');
    expect(w.projectsOf('team-a')).toEqual(['a2', 'both']);
    await w.unbind('both', 'team-a');
    expect(w.projectsOf('team-a')).toEqual(['a2']);
    // A check without a focus (reconcile's, the sweep's) keeps what is bound, too.
    await w.reconcile();
    expect(w.projectsOf('team-a')).toEqual(['a2']);
    await w.isolated();
  });

  it('repairs a robot edited (extra project, push, *, disabled) or deleted in Harbor by hand: reconcile, then the consumer', async () => {
    await w.bind('a1', 'team-a');
    await w.bind('b1', 'team-b');
    const id = w.robotOf('team-a')?.id ?? -1;
    const old = await w.entryOf('ns-a');
    if (!old) throw new Error('no pull secret entry');
    const exact = { id, disable: false, permissions: [{ kind: 'project', namespace: 'a1', access: PULL }] };

    w.harbor.editRobot(id, {
      permissions: [
        { kind: 'project', namespace: 'a1', access: [...PULL, { resource: 'repository', action: 'push' }] },
        { kind: 'project', namespace: 'b1', access: PULL },
      ],
    });
    // The edit really leaks team-b's project to team-a.
    expect(w.harbor.robotCanPull(old.username, old.password, 'b1')).toBe(true);
    const report = await w.reconcile();
    expect(report.pullAccess).toEqual({ checked: 2 });
    expect(w.robotOf('team-a')).toMatchObject(exact);
    expect(w.harbor.robotCanPull(old.username, old.password, 'b1')).toBe(false);
    expect(w.harbor.robotCanPull(old.username, old.password, 'a1')).toBe(true);

    w.harbor.editRobot(id, { permissions: [{ kind: 'project', namespace: '*', access: PULL }] });
    expect(w.harbor.robotCanPull(old.username, old.password, 'b1')).toBe(true);
    await w.reconcile();
    expect(w.robotOf('team-a')).toMatchObject(exact);
    expect(w.harbor.robotCanPull(old.username, old.password, 'b1')).toBe(false);

    w.harbor.editRobot(id, { disabled: true });
    expect(await w.canPull('ns-a', 'a1')).toBe(false);
    await w.reconcile();
    expect(w.robotOf('team-a')).toMatchObject(exact);
    expect(await w.canPull('ns-a', 'a1')).toBe(true);

    w.harbor.removeRobot(id);
    expect(await w.canPull('ns-a', 'a1')).toBe(false);
    await w.reconcile();
    const recreated = w.robotOf('team-a');
    expect(recreated?.id).not.toBe(id);
    expect(recreated).toMatchObject({ ...exact, id: recreated?.id });
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect(w.harbor.robotCanPull(old.username, old.password, 'a1')).toBe(false);
    await w.isolated();
    expect(await w.pullMarks()).toEqual([]);
  });

  it('deletes a stray robot named like ours that no grant needs, and leaves other robots alone', async () => {
    await w.bind('a1', 'team-a');
    const stray = (name: string, projects: string[]) => httpRegistryApi.createRobot(w.target, { name, description: 'made by hand', durationDays: 30, projects });
    await stray('platform-registry.team-b', ['a1']);
    await stray('platform-registry.ghost', ['b1']);
    await stray('ci-pusher', ['a1']);
    // Another service instance on the same Harbor, whose prefix starts like ours.
    await stray('platform-registry-staging.team-b', ['b1']);
    const report = await w.reconcile();
    expect(report.pullAccess).toEqual({ checked: 3 });
    expect(w.harbor.robots().map((r) => r.name).sort()).toEqual(['robot$ci-pusher', 'robot$platform-registry-staging.team-b', robotName('team-a')]);
    expect((await w.t.store.pullGrants.ofRegistry(w.id)).map((g) => g.workspaceId)).toEqual(['team-a']);
    expect(w.projectsOf('team-a')).toEqual(['a1']);
    await w.isolated();
    expect(await w.pullMarks()).toEqual([]);
  });

  it('credentials that cannot keep robots: the grant is refused with Harbor’s reason, the registry says so, the pull secret has no entry', async () => {
    for (const [access, space, ws, ns] of [
      ['read', 'a1', 'team-a', 'ns-a'],
      ['none', 'b1', 'team-b', 'ns-b'],
    ] as const) {
      w.harbor.setRobotAccess(access);
      await w.bind(space, ws);
      const grant = await w.grant(ws);
      expect(grant).toMatchObject({ status: 'refused', statusMessage: expect.stringContaining('403') });
      expect(grant?.robot).toBeUndefined();
      expect((await w.registry()).pullAccess).toMatchObject({ status: 'unavailable', message: grant?.statusMessage });
      expect(Object.keys((await w.pullSecret(ns)).auths)).not.toContain(w.host);
      expect(await w.explainPull(ns, space)).toMatchObject({ holds: false, statement: `Harbor refused the robot of ${ws}: ${grant?.statusMessage}` });
      expect(await w.pullMarks()).toEqual([]);
    }
    expect(w.harbor.robots()).toEqual([]);

    // Given the right, reconcile retries them.
    w.harbor.setRobotAccess('manage');
    await w.reconcile();
    expect((await w.registry()).pullAccess).toMatchObject({ status: 'available' });
    expect(await w.grant('team-a')).toMatchObject({ status: 'synced' });
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect(await w.canPull('ns-b', 'b1')).toBe(true);
    await w.isolated();
  });

  it('a namespace leaving a workspace rotates that workspace’s robot: the old secret stops pulling at once, the new one works', async () => {
    await w.bind('a1', 'team-a');
    await w.bind('b1', 'team-b');
    const times: number[] = [];
    // ns-a2 goes team-a → team-b → team-a → team-b: each move rotates the workspace it left.
    for (const [from, to, project, stays] of [
      ['team-a', 'team-b', 'a1', 'ns-a'],
      ['team-b', 'team-a', 'b1', 'ns-b'],
      ['team-a', 'team-b', 'a1', 'ns-a'],
    ] as const) {
      const old = await w.entryOf('ns-a2');
      if (!old) throw new Error('no pull secret entry');
      expect(old.username).toBe(robotName(from));
      const started = performance.now();
      await putNamespace('prod', 'ns-a2', { workspaceId: to }, w.deps, ctx);
      await w.deliver();
      const stillPulls = w.harbor.robotCanPull(old.username, old.password, project);
      times.push(performance.now() - started);
      expect(stillPulls).toBe(false);
      expect(await w.canPull(stays, project)).toBe(true);
      // The moved namespace names only its new workspace's robot, and cannot pull the old workspace's project.
      expect((await w.entryOf('ns-a2'))?.username).toBe(robotName(to));
      expect(await w.canPull('ns-a2', project)).toBe(false);
      await w.isolated();
    }
    console.log('putNamespace(move)→old secret refused ms: median', ms(median(times)), 'max', ms(Math.max(...times)), 'n', times.length);

    // A late duplicate of the move rotates nothing again: the secret handed out since keeps working.
    await putNamespace('prod', 'ns-a2', { workspaceId: 'team-a' }, w.deps, ctx);
    const move = w.bus.take();
    await w.consumeAll(move);
    await w.deliver();
    const handedOut = await w.entryOf('ns-b');
    await w.consumeAll(move);
    await w.deliver();
    expect(await w.entryOf('ns-b')).toEqual(handedOut);
    expect(await w.canPull('ns-b', 'b1')).toBe(true);

    // Deleting a namespace rotates its workspace too.
    const before = await w.entryOf('ns-a');
    if (!before) throw new Error('no pull secret entry');
    await deleteNamespace('prod', 'ns-a2', w.deps, ctx);
    await w.deliver();
    expect(w.harbor.robotCanPull(before.username, before.password, 'a1')).toBe(false);
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    // A reader of another workspace gets no pull secret.
    await expect(w.pullSecret('ns-b', { sub: 'reader', roles: [], workspaces: ['team-a'] })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await w.pullMarks()).toEqual([]);
  });

  it('a rotation asked for while Harbor is down is done once Harbor is back', async () => {
    await w.bind('a1', 'team-a');
    const old = await w.entryOf('ns-a2');
    if (!old) throw new Error('no pull secret entry');
    w.harbor.setDown(true);
    await putNamespace('prod', 'ns-a2', { workspaceId: 'team-b' }, w.deps, ctx);
    await w.deliver();
    expect(await w.grant('team-a')).toMatchObject({ status: 'failing' });
    w.harbor.setDown(false);
    expect(w.harbor.robotCanPull(old.username, old.password, 'a1')).toBe(true);
    await w.sweep();
    expect(w.harbor.robotCanPull(old.username, old.password, 'a1')).toBe(false);
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect(await w.pullMarks()).toEqual([]);
  });

  it('rotateWorkspacePullCredentials rotates every robot of the workspace, asynchronously', async () => {
    await w.bind('a1', 'team-a');
    await w.bind('b1', 'team-b');
    const old = await w.entryOf('ns-a');
    const oldB = await w.entryOf('ns-b');
    const before = (await w.grant('team-a'))?.robot;
    if (!old || !oldB || !before) throw new Error('no robot');
    const { etag } = await w.pullSecret('ns-a');
    const answer = await rotateWorkspacePullCredentials('team-a', w.deps, ctx);
    expect(answer.robots).toEqual([{ registryId: w.id, robot: robotName('team-a') }]);
    expect(w.harbor.robotCanPull(old.username, old.password, 'a1')).toBe(true);
    await w.deliver();
    expect(w.harbor.robotCanPull(old.username, old.password, 'a1')).toBe(false);
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect((await w.pullSecret('ns-a')).etag).not.toBe(etag);
    const after = (await w.grant('team-a'))?.robot;
    expect(after?.secretVersion).toBe(before.secretVersion + 1);
    expect(after?.rotatedAt && after.rotatedAt >= before.rotatedAt).toBe(true);
    // Another workspace's robot is untouched.
    expect(await w.entryOf('ns-b')).toEqual(oldB);
    await expect(rotateWorkspacePullCredentials('nobody', w.deps, ctx)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await w.pullMarks()).toEqual([]);
  });

  it('rotates a robot past two thirds of its life: new secret, later expiry', async () => {
    await w.bind('a1', 'team-a');
    const old = await w.entryOf('ns-a');
    const before = w.robotOf('team-a');
    if (!old || !before) throw new Error('no robot');
    expect(before.expires_at - Math.floor(Date.now() / 1000)).toBeGreaterThan(89 * 86_400);
    expect(await rotateExpiringRobots(w.deps, ctx)).toEqual({ due: 0 });
    w.clock.offsetMs = 61 * DAY_MS;
    expect(await rotateExpiringRobots(w.deps, ctx)).toEqual({ due: 1 });
    await w.deliver();
    const after = w.robotOf('team-a');
    expect(after?.id).toBe(before.id);
    expect(after?.expires_at).toBeGreaterThan(before.expires_at + 60 * 86_400);
    expect((await w.grant('team-a'))?.robot?.expiresAt).toBe(after?.expires_at);
    expect(w.harbor.robotCanPull(old.username, old.password, 'a1')).toBe(false);
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect(await rotateExpiringRobots(w.deps, ctx)).toEqual({ due: 0 });
  });

  it('takes duplicated, reordered and late events without harm', async () => {
    // Reordered: the unbind arrives before the bind; then the bind arrives again, late.
    await bindSpace(w.id, 'a1', 'team-a', w.deps, ctx);
    const bound = w.bus.take();
    await unbindSpace(w.id, 'a1', 'team-a', w.deps, ctx);
    const unbound = w.bus.take();
    await w.consumeAll([...unbound, ...bound]);
    expect(w.harbor.robots()).toEqual([]);
    await w.consumeAll(bound);
    expect(w.harbor.robots()).toEqual([]);

    // Duplicated: the same bind twice gives one robot and one secret.
    await bindSpace(w.id, 'a2', 'team-a', w.deps, ctx);
    const again = w.bus.take();
    await w.consumeAll(again);
    const first = await w.pullSecret('ns-a');
    await w.consumeAll(again);
    await w.consumeAll(again);
    expect(w.harbor.robots()).toHaveLength(1);
    expect(w.projectsOf('team-a')).toEqual(['a2']);
    expect((await w.pullSecret('ns-a')).etag).toBe(first.etag);
    expect(await w.canPull('ns-a', 'a2')).toBe(true);
    // A late unbind of a space bound again since changes nothing.
    await w.consumeAll(unbound);
    await w.bind('a1', 'team-a');
    await w.consumeAll(unbound);
    expect(w.projectsOf('team-a')).toEqual(['a1', 'a2']);
    await w.deliver();
    await w.isolated();
    expect(await w.pullMarks()).toEqual([]);
  });

  it('removeRegistry deletes its robots in Harbor and forgets the grants', async () => {
    await w.bind('a1', 'team-a');
    await w.bind('b1', 'team-b');
    await w.bind('both', 'team');
    expect(w.harbor.robots()).toHaveLength(3);
    await removeRegistry(w.id, w.deps, ctx);
    await w.deliver();
    expect(w.harbor.robots()).toEqual([]);
    expect(await w.t.store.pullGrants.ofRegistry(w.id)).toEqual([]);
    expect(Object.keys((await w.pullSecret('ns-a')).auths)).toEqual([]);
  });

  it('explains pull access (robot, pending, refused, public, no link) and previews who loses it', async () => {
    expect(await w.explainPull('ns-a', 'pub')).toMatchObject({ link: 'pull', holds: true, statement: expect.stringContaining('project pub is public') });
    expect(await w.explainPull('ns-b', 'a1')).toMatchObject({ holds: false, statement: 'no pull access: project a1 is private and not bound to team-b' });

    await bindSpace(w.id, 'a1', 'team-a', w.deps, ctx);
    expect(await w.explainPull('ns-a', 'a1')).toMatchObject({ holds: false, statement: 'robot of team-a pending: not created yet' });
    await w.deliver();
    expect(await w.explainPull('ns-a', 'a1')).toMatchObject({ holds: true, statement: expect.stringContaining(`through robot ${robotName('team-a')} of team-a`) });
    expect(await w.explainPull('ns-b', 'a1')).toMatchObject({ holds: false });

    w.harbor.setRobotAccess('read');
    await w.bind('b1', 'team-b');
    expect(await w.explainPull('ns-b', 'b1')).toMatchObject({ holds: false, statement: expect.stringMatching(/^Harbor refused the robot of team-b: .*403/) });
    w.harbor.setRobotAccess('manage');

    await w.bind('both', 'team-a');
    await w.bind('both', 'team');
    await w.bind('pub', 'team-a');
    const preview = (space: string, input: Parameters<typeof previewSpaceChange>[2]) => previewSpaceChange(w.id, space, input, w.deps);
    expect((await preview('both', { action: 'unbind', workspaceId: 'team-a', first: 20 })).pullAccess).toEqual({
      robots: [{ workspaceId: 'team-a', robot: robotName('team-a') }],
      namespaces: { count: 2, first: ['prod/ns-a', 'prod/ns-a2'] },
    });
    expect((await preview('both', { action: 'delete', first: 20 })).pullAccess.robots).toEqual([
      { workspaceId: 'team', robot: robotName('team') },
      { workspaceId: 'team-a', robot: robotName('team-a') },
    ]);
    // A public space is held by no robot: making it private takes no robot's access (the bound keep it).
    expect((await preview('pub', { action: 'make-private', first: 20 })).pullAccess).toEqual({ robots: [], namespaces: { count: 2, first: ['prod/ns-b', 'prod/ns-team'] } });
    expect((await preview('a1', { action: 'unbind', workspaceId: 'team-b', first: 20 })).pullAccess.robots).toEqual([]);
    await w.isolated();
  });
});
