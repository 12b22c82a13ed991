import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type { PullGrant } from '../../shared/domain/model.ts';
import { DomainError } from '../../shared/errors.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { logger } from '../../shared/logger.ts';
import { httpRegistryApi, RegistryCallError, type RegistryApi } from '../../shared/registries/registry-api.ts';
import { createLocalSecretStore } from '../../shared/secrets/local-secret-store.ts';
import type { SecretStore } from '../../shared/secrets/secret-store.ts';
import { retireRobotsOf } from '../../shared/usecases/pull-access.ts';
import { getPullSecret } from '../../shared/usecases/pull-secret.ts';
import { reconcileRegistry } from '../../shared/usecases/reconcile.ts';
import { registerRegistry, removeRegistry, updateRegistry } from '../../shared/usecases/registries.ts';
import { bindSpace, createSpace, unbindSpace } from '../../shared/usecases/spaces.ts';
import { sweepPending } from '../../shared/usecases/sweep.ts';
import { deleteNamespace, putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { rotateWebhookSecret } from '../../shared/usecases/webhook-config.ts';
import { consume, ctx, testDeps } from '../helpers/deps.ts';
import { startFakeHarbor } from '../helpers/fake-harbor.ts';
import { authsOf, pullMarks as pullMarksOf, robotName } from '../helpers/pull-secrets.ts';
import { createTestTable } from '../helpers/table.ts';

const admin: Claims = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };
/** Docker Registries these tests register without a network: their URL check and probe agree. */
const OFFLINE_HOSTS = /^https:\/\/dreg[0-9]*\.example\.com\.?$/;

/**
 * A secret store that records what is sealed and removed, and refuses to open a removed item (as Secrets Manager
 * does once the item is scheduled for deletion). `beforeOpen` / `beforeSeal` let a test interleave a change.
 */
const recordingSecrets = (inner: SecretStore) => {
  const store = {
    sealed: [] as { name: string; ref: string }[],
    removed: [] as string[],
    beforeOpen: undefined as undefined | ((ref: string) => Promise<void>),
    beforeSeal: undefined as undefined | ((name: string) => Promise<void>),
    async seal(name: string, value: string) {
      await store.beforeSeal?.(name);
      const ref = await inner.seal(name, value);
      store.sealed.push({ name, ref });
      return ref;
    },
    async open(ref: string) {
      await store.beforeOpen?.(ref);
      if (store.removed.includes(ref)) throw new Error('secret item was removed');
      return inner.open(ref);
    },
    async remove(ref: string) {
      store.removed.push(ref);
    },
  };
  return store;
};

/** A promise a test opens when it wants, and one that says when the blocked call reached the gate. */
const gate = () => {
  let open = () => {};
  let reached = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  return { opened, arrived, open: () => open(), reach: () => reached() };
};

/**
 * One Harbor registry (hosted, admin credentials) on a fake Harbor over HTTP, a fresh table on DynamoDB Local,
 * workspaces `team-a`, `team-b`, namespaces ns-a, ns-a2 (team-a), ns-b (team-b) in cluster `prod`, private spaces
 * a1 a2 b1 both. The real HTTP client speaks to Harbor; Docker Registries at `dreg*.example.com` are agreed to
 * without a network (URL check and probe healthy).
 */
const world = async () => {
  const t = await createTestTable(inject('dynamoEndpoint'));
  const harbor = await startFakeHarbor();
  const secrets = recordingSecrets(createLocalSecretStore(randomBytes(32)));
  const api: RegistryApi = {
    ...httpRegistryApi,
    checkUrl: (url) => (OFFLINE_HOSTS.test(url) ? Promise.resolve(undefined) : httpRegistryApi.checkUrl(url)),
    probe: (target) => (target.kind === 'docker-registry' ? Promise.resolve({ status: 'healthy' as const }) : httpRegistryApi.probe(target)),
  };
  const env = testDeps(t.store, { registryApi: api, secrets });
  const { deps, deliver, bus } = env;
  const { id } = await registerRegistry({ name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials }, deps, ctx);
  for (const ws of ['team-a', 'team-b']) await putWorkspace(ws, {}, deps, ctx);
  for (const [ns, ws] of Object.entries({ 'ns-a': 'team-a', 'ns-a2': 'team-a', 'ns-b': 'team-b' })) await putNamespace('prod', ns, { workspaceId: ws }, deps, ctx);
  for (const name of ['a1', 'a2', 'b1', 'both']) await createSpace(id, { name, visibility: 'private' }, deps, ctx);
  await deliver();

  const registry = async () => {
    const r = await t.store.registries.getAny(id);
    if (!r) throw new Error(`registry ${id} is gone`);
    return r;
  };
  const host = (await registry()).host;
  const robotOf = (ws: string) => harbor.robots().find((r) => r.name === robotName(ws));
  const grant = (ws: string) => t.store.pullGrants.get(id, ws);
  const bind = async (space: string, ws: string) => {
    await bindSpace(id, space, ws, deps, ctx);
    await deliver();
  };
  const auths = async (ns: string) => {
    const answer = await getPullSecret('prod', ns, { caller: admin, format: 'json' }, deps);
    if (answer.notModified) throw new Error('unexpected 304');
    return authsOf(answer.text);
  };
  /** The namespace's pull secret entry for this Harbor, if any. */
  const entryOf = async (ns: string) => (await auths(ns))[host];
  const entryOrThrow = async (ns: string) => {
    const entry = await entryOf(ns);
    if (!entry) throw new Error(`no pull secret entry for ${ns}`);
    return entry;
  };
  const canPull = async (ns: string, project: string) => {
    const entry = await entryOf(ns);
    return !!entry && harbor.robotCanPull(entry.username, entry.password, project);
  };
  /** The sweep well past its threshold (every mark is old enough), then delivery of what it re-emitted. */
  const sweep = async () => {
    await sweepPending(deps, -60_000);
    await deliver();
  };
  const pullMarks = () => pullMarksOf(t.store);
  const reconcile = async () => {
    await reconcileRegistry(await registry(), deps, ctx);
    await deliver();
  };
  const registerDocker = (url: string, pullCredentials?: { username: string; password: string }) =>
    registerRegistry({ name: new URL(url).hostname, kind: 'docker-registry', mode: 'hosted', url, ...(pullCredentials ? { pullCredentials } : {}) }, deps, ctx);
  return {
    t, harbor, secrets, api, deps, deliver, bus, id, host, registry, robotOf, grant, bind, auths, entryOf, entryOrThrow, canPull, sweep, pullMarks,
    reconcile, registerDocker,
    close: async () => {
      await harbor.close();
      await t.drop();
    },
  };
};

describe('pull access after the attacker review: the fixes hold on DynamoDB Local and a fake Harbor over HTTP', () => {
  let w: Awaited<ReturnType<typeof world>>;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await w?.close();
  });

  it('a namespace leaving a workspace rotates its robot even when the bus refuses the publish (PUT elsewhere, DELETE)', async () => {
    await w.bind('a1', 'team-a');
    await w.bind('b1', 'team-b');

    // PUT to another workspace; the bus refuses everything the move publishes.
    const oldA = await w.entryOrThrow('ns-a2');
    w.bus.failNext = true;
    await putNamespace('prod', 'ns-a2', { workspaceId: 'team-b' }, w.deps, ctx);
    expect(w.bus.events).toEqual([]);
    expect((await w.grant('team-a'))?.rotateRequestedAt).toEqual(expect.any(String));
    expect(await w.pullMarks()).toHaveLength(1);
    expect(w.harbor.robotCanPull(oldA.username, oldA.password, 'a1')).toBe(true);
    await w.sweep();
    expect(w.harbor.robotCanPull(oldA.username, oldA.password, 'a1')).toBe(false);
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect(await w.pullMarks()).toEqual([]);

    // DELETE, with the bus refusing again.
    const oldB = await w.entryOrThrow('ns-b');
    w.bus.failNext = true;
    await deleteNamespace('prod', 'ns-a2', w.deps, ctx);
    expect(w.bus.events).toEqual([]);
    await w.sweep();
    expect(w.harbor.robotCanPull(oldB.username, oldB.password, 'b1')).toBe(false);
    expect(await w.canPull('ns-b', 'b1')).toBe(true);
    expect(await w.pullMarks()).toEqual([]);
  });

  it('a robot stored a moment before the move is rotated: the workspace’s grants are read consistently, not from GSI1', async () => {
    await w.bind('a1', 'team-a');
    const old = await w.entryOrThrow('ns-a2');
    // GSI1 lags: it does not show team-a's grant yet.
    const real = w.t.store.pullGrants;
    w.deps.store = { ...w.t.store, pullGrants: { ...real, ofWorkspace: async (ws: string) => (ws === 'team-a' ? [] : real.ofWorkspace(ws)) } };
    await putNamespace('prod', 'ns-a2', { workspaceId: 'team-b' }, w.deps, ctx);
    await w.deliver();
    w.deps.store = w.t.store;
    expect(w.harbor.robotCanPull(old.username, old.password, 'a1')).toBe(false);
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
  });

  it('removing a registry while Harbor is down keeps the grant and the secrets until its robots are deleted; a death before markRemoved is harmless', async () => {
    await w.bind('a1', 'team-a');
    await w.bind('b1', 'team-b');
    const registry = await w.registry();
    const robotSecrets = [(await w.grant('team-a'))?.robot?.secretRef, (await w.grant('team-b'))?.robot?.secretRef];

    // The process dies after marking the grants, before the registry is marked removed: the marks' syncs find a
    // live registry, keep the robot and drop the removal info.
    const died = await retireRobotsOf(w.deps, ctx, registry);
    expect(died.events).toHaveLength(2);
    expect(await w.grant('team-a')).toMatchObject({ removal: { kind: 'harbor', url: registry.url, secretRef: registry.secretRef } });
    for (const e of died.events) await consume(e, w.deps);
    await w.deliver();
    expect(w.harbor.robots()).toHaveLength(2);
    expect((await w.grant('team-a'))?.removal).toBeUndefined();
    expect((await w.grant('team-b'))?.removal).toBeUndefined();
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect(w.secrets.removed).toEqual([]);
    expect(await w.pullMarks()).toEqual([]);

    // Harbor down: the robots cannot be deleted; grants and secrets are kept, with their marks.
    w.harbor.setDown(true);
    await removeRegistry(w.id, w.deps, ctx);
    await w.deliver();
    expect(await w.t.store.registries.get(w.id)).toBeUndefined();
    for (const ws of ['team-a', 'team-b'])
      expect(await w.grant(ws)).toMatchObject({ status: 'failing', statusMessage: expect.stringContaining('503'), removal: { secretRef: registry.secretRef } });
    expect(await w.pullMarks()).toHaveLength(2);
    expect(w.secrets.removed).toEqual([]);
    expect(w.harbor.robots()).toHaveLength(2);
    // The registry is gone: no namespace gets its entry meanwhile.
    expect(await w.entryOf('ns-a')).toBeUndefined();

    // A sweep while still down changes nothing.
    await w.sweep();
    expect(w.harbor.robots()).toHaveLength(2);
    expect(w.secrets.removed).toEqual([]);

    w.harbor.setDown(false);
    await w.sweep();
    expect(w.harbor.robots()).toEqual([]);
    expect(await w.t.store.pullGrants.ofRegistry(w.id)).toEqual([]);
    expect(w.secrets.removed).toEqual(expect.arrayContaining([...robotSecrets, registry.secretRef]));
    expect(w.secrets.removed.filter((r) => r === registry.secretRef)).toHaveLength(1);
    expect(await w.pullMarks()).toEqual([]);
  });

  it('never brings back a grant removed while its sync ran (settle after a create, keep-for-retry after Harbor failed)', async () => {
    // Removed while Harbor created the robot: the outcome is not stored.
    w.deps.registryApi = {
      ...w.api,
      createRobot: async (target, spec) => {
        await w.t.store.pullGrants.remove(w.id, 'team-a');
        return w.api.createRobot(target, spec);
      },
    };
    await w.bind('a1', 'team-a');
    expect(await w.grant('team-a')).toBeUndefined();

    // Removed while Harbor failed: nothing is kept for retry.
    w.deps.registryApi = {
      ...w.api,
      listRobots: async () => {
        await w.t.store.pullGrants.remove(w.id, 'team-b');
        throw new RegistryCallError('unavailable', 'Harbor did not answer: 503', 503);
      },
    };
    await w.bind('b1', 'team-b');
    expect(await w.grant('team-b')).toBeUndefined();
    w.deps.registryApi = w.api;

    // The repository itself: neither write creates the item.
    const ghost: PullGrant = { registryId: w.id, workspaceId: 'team-a', projects: ['a2'], status: 'synced', updatedAt: new Date().toISOString() };
    await w.t.store.pullGrants.settle(ghost, 'some-event');
    await w.t.store.pullGrants.keepForRetry({ ...ghost, status: 'failing' });
    expect(await w.grant('team-a')).toBeUndefined();
  });

  it('leaves out one pull secret entry that cannot be written and logs it; the namespace keeps the others', async () => {
    await w.bind('a1', 'team-a');
    const errors = vi.spyOn(logger, 'error');
    const bad = await w.registerDocker('https://dreg.example.com.', { username: 'puller', password: 'pull-only-1' });
    const good = await w.registerDocker('https://dreg2.example.com', { username: 'reader', password: 'pull-only-2' });
    expect(bad.host).toBe('dreg.example.com.');
    const auths = await w.auths('ns-a');
    expect(Object.keys(auths).sort()).toEqual([w.host, good.host].sort());
    expect(auths[w.host]?.username).toBe(robotName('team-a'));
    expect(auths[good.host]).toMatchObject({ username: 'reader', password: 'pull-only-2' });
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect(errors).toHaveBeenCalledWith('pull secret entry left out', { registryId: bad.id, problem: expect.stringContaining('is not host[:port]') });
    expect(JSON.stringify(errors.mock.calls)).not.toContain('pull-only-1');
  });

  it('fails closed: after an unbind Harbor has not applied the namespace gets no entry for it; a bind not yet synced keeps it', async () => {
    await w.bind('a1', 'team-a');
    await w.bind('a2', 'team-a');
    const before = await w.entryOrThrow('ns-a');

    w.harbor.setDown(true);
    await unbindSpace(w.id, 'a2', 'team-a', w.deps, ctx);
    await w.deliver();
    expect(await w.grant('team-a')).toMatchObject({ status: 'failing', projects: ['a1'], robot: { projects: ['a1', 'a2'] } });
    // The robot still holds a2 in Harbor: its secret is not handed out.
    expect(w.harbor.robotCanPull(before.username, before.password, 'a2')).toBe(true);
    expect(await w.entryOf('ns-a')).toBeUndefined();
    w.harbor.setDown(false);
    await w.sweep();
    expect(await w.entryOf('ns-a')).toEqual(before);
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    expect(await w.canPull('ns-a', 'a2')).toBe(false);

    // Growing is safe: a bind Harbor has not applied yet keeps the entry for what the robot does hold.
    w.harbor.setDown(true);
    await w.bind('both', 'team-a');
    expect(await w.grant('team-a')).toMatchObject({ status: 'failing', projects: ['a1', 'both'], robot: { projects: ['a1'] } });
    expect(await w.canPull('ns-a', 'a1')).toBe(true);
    w.harbor.setDown(false);
    await w.sweep();
    expect(await w.canPull('ns-a', 'both')).toBe(true);
    expect(await w.pullMarks()).toEqual([]);
  });

  it('answers CONFLICT when the namespace moves while its pull secret is made', async () => {
    await w.bind('a1', 'team-a');
    const old = await w.entryOrThrow('ns-a');
    let moved = false;
    w.secrets.beforeOpen = async () => {
      if (moved) return;
      moved = true;
      await putNamespace('prod', 'ns-a', { workspaceId: 'team-b' }, w.deps, ctx);
    };
    const answer = getPullSecret('prod', 'ns-a', { caller: admin, format: 'json' }, w.deps);
    await expect(answer).rejects.toBeInstanceOf(DomainError);
    await expect(answer).rejects.toMatchObject({ code: 'CONFLICT' });
    w.secrets.beforeOpen = undefined;
    await w.deliver();
    // Asked again, the namespace gets its new workspace's view; the secret opened meanwhile no longer pulls.
    expect(await w.entryOf('ns-a')).toBeUndefined();
    expect(w.harbor.robotCanPull(old.username, old.password, 'a1')).toBe(false);
  });

  it('never takes over a robot at the known id that is not ours, and gives one of ours made never to expire a finite life again', async () => {
    await w.bind('a1', 'team-a');
    await w.bind('b1', 'team-b');

    // Our robot renamed by hand: it is someone else's now; ours is created anew.
    const firstId = w.robotOf('team-a')?.id ?? -1;
    const renamed = w.harbor.state.robot(firstId);
    if (!renamed) throw new Error('no robot');
    renamed.name = 'ci-pusher';
    const foreign = w.harbor.robots().find((r) => r.id === firstId);
    await w.reconcile();
    expect(w.harbor.robots().find((r) => r.id === firstId)).toEqual(foreign);
    const created = w.robotOf('team-a');
    expect(created?.id).not.toBe(firstId);
    expect((await w.grant('team-a'))?.robot?.id).toBe(created?.id);
    expect(await w.canPull('ns-a', 'a1')).toBe(true);

    // The grant points at another robot's id (an id Harbor reused): that robot is left alone, ours adopted by name.
    const ourId = w.robotOf('team-b')?.id ?? -1;
    const old = await w.entryOrThrow('ns-b');
    const other = await httpRegistryApi.createRobot({ kind: 'harbor', url: w.harbor.url, credentials: w.harbor.credentials }, { name: 'deployer', description: 'made by hand', durationDays: 30, projects: ['a2'] });
    const held = await w.grant('team-b');
    if (!held?.robot) throw new Error('no grant');
    await w.t.store.pullGrants.settle({ ...held, robot: { ...held.robot, id: other.id } }, 'hand-edit');
    const otherBefore = w.harbor.robots().find((r) => r.id === other.id);
    await w.reconcile();
    expect(w.harbor.robots().find((r) => r.id === other.id)).toEqual(otherBefore);
    expect((await w.grant('team-b'))?.robot?.id).toBe(ourId);
    expect(w.robotOf('team-b')?.permissions.map((p) => p.namespace)).toEqual(['b1']);
    // Adopted without a secret we hold: it gets a fresh one.
    expect(w.harbor.robotCanPull(old.username, old.password, 'b1')).toBe(false);
    expect(await w.canPull('ns-b', 'b1')).toBe(true);

    // Ours edited by hand to never expire: the next verify gives it a finite life, and the grant knows it.
    w.harbor.editRobot(ourId, { duration: -1, expiresAt: -1 });
    await w.reconcile();
    const robot = w.robotOf('team-b');
    const nowS = Math.floor(Date.now() / 1000);
    expect(robot?.duration).toBeGreaterThan(0);
    expect(robot?.expires_at).toBeGreaterThan(nowS + 89 * 86_400);
    expect(robot?.expires_at).toBeLessThanOrEqual(nowS + 91 * 86_400);
    expect((await w.grant('team-b'))?.robot?.expiresAt).toBe(robot?.expires_at);
    expect(await w.canPull('ns-b', 'b1')).toBe(true);
    expect(await w.pullMarks()).toEqual([]);
  });

  it('keeps pull credentials in their own sealed item: a webhook rotation keeps them, a racing PATCH conflicts, PATCH null removes them', async () => {
    const p1 = { username: 'puller', password: 'pull-only-1' };
    const dreg = await w.registerDocker('https://dreg.example.com', p1);
    const stored = await w.t.store.registries.get(dreg.id);
    const sealedFirst = stored?.pullCredentialsRef;
    expect(sealedFirst).toEqual(expect.any(String));
    // The registry's own sealed secrets do not hold them.
    expect(JSON.parse(await w.secrets.open(stored?.secretRef ?? ''))).not.toHaveProperty('pullCredentials');
    expect((await w.auths('ns-a'))[dreg.host]).toMatchObject(p1);

    // Rotating the webhook secret keeps them.
    await rotateWebhookSecret(dreg.id, {}, w.deps, ctx);
    expect((await w.auths('ns-a'))[dreg.host]).toMatchObject(p1);
    expect((await w.t.store.registries.get(dreg.id))?.pullCredentialsRef).toBe(sealedFirst);

    // Two PATCHes from the same starting point: A is held in its check while B commits; A then conflicts.
    const pA = { username: 'reader-a', password: 'pull-only-a' };
    const pB = { username: 'reader-b', password: 'pull-only-b' };
    const hold = gate();
    w.deps.registryApi = {
      ...w.api,
      probe: async (target) => {
        if (target.credentials?.username === pA.username) {
          hold.reach();
          await hold.opened;
        }
        return w.api.probe(target);
      },
    };
    const patchA = updateRegistry(dreg.id, { pullCredentials: pA }, w.deps, ctx);
    patchA.catch(() => undefined);
    await hold.arrived;
    await updateRegistry(dreg.id, { pullCredentials: pB }, w.deps, ctx);
    const refB = (await w.t.store.registries.get(dreg.id))?.pullCredentialsRef;
    hold.open();
    await expect(patchA).rejects.toMatchObject({ code: 'CONFLICT' });
    w.deps.registryApi = w.api;
    expect((await w.t.store.registries.get(dreg.id))?.pullCredentialsRef).toBe(refB);
    expect((await w.auths('ns-a'))[dreg.host]).toMatchObject(pB);
    const refA = w.secrets.sealed.filter((s) => s.name.startsWith(`${dreg.id}-pull-`)).map((s) => s.ref).find((r) => r !== sealedFirst && r !== refB);
    expect(w.secrets.removed).toEqual(expect.arrayContaining([sealedFirst, refA]));
    expect(w.secrets.removed).not.toContain(refB);

    // PATCH null removes them and their item.
    const view = await updateRegistry(dreg.id, { pullCredentials: null }, w.deps, ctx);
    expect(view.pullCredentialsSetAt).toBeUndefined();
    expect((await w.t.store.registries.get(dreg.id))?.pullCredentialsRef).toBeUndefined();
    expect(Object.keys(await w.auths('ns-a'))).not.toContain(dreg.host);
    expect(w.secrets.removed).toContain(refB);
  });
});
