import { randomBytes } from 'node:crypto';
import { PullAccessSyncRequested, SpaceBound, SpaceCreated, SpaceDeleted, SpaceUnbound, SpaceVisibilityChanged, type BusEvent } from '../../events/index.ts';
import { robotNameOf, rotationDue } from '../domain/pull-access.ts';
import { RegistrySecrets, WorkspaceId, type PullGrant, type Registry } from '../domain/model.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { notFound } from '../errors.ts';
import { logger } from '../logger.ts';
import { durationToLast, RegistryCallError, robotMatches, type HarborRobot, type RegistryTarget, type RobotSpec } from '../registries/registry-api.ts';
import { recordAudit } from './audit.ts';
import { dropSecret, targetOf } from './registry-access.ts';

/**
 * Pull access follows the rule: for each Harbor registry R and workspace W with a bound private space on R, one
 * system robot holds exactly `repository:pull` + `artifact:read` on those projects. Level-triggered like the
 * indexer: every change re-derives W's set on R from the truth and converges Harbor to it. All robot writes run in
 * the `sync-pull-access` consumer (serial), so two syncs of one robot never interleave.
 */

type Pair = { registryId: string; workspaceId: string } & SyncOptions;
export type SyncOptions = {
  /** Spaces whose binding or visibility just changed: read consistently, not from GSI1 (which may lag). */
  focus?: string[];
  /** Read the robot back from Harbor even when the grant looks synced (reconcile: repairs edits made by hand). */
  verify?: boolean;
};
export type SyncOutcome = { registryId: string; workspaceId: string; action: 'none' | 'created' | 'updated' | 'unchanged' | 'deleted'; rotated: boolean; status: PullGrant['status'] | 'gone' };

/**
 * The private projects of R that W's namespaces may select, from the truth. R owned by W: every private project of R;
 * owned by another workspace: none. A platform R: W's bound private projects. Candidates: W's bindings on GSI1,
 * `focus` and `held` (what the grant holds); each candidate's binding and space are then read consistently.
 */
export const desiredProjects = async (
  deps: Deps,
  registry: Registry,
  workspaceId: string,
  focus: string[] = [],
  held: string[] = [],
): Promise<string[]> => {
  const registryId = registry.id;
  if (registry.ownerWorkspaceId)
    return registry.ownerWorkspaceId === workspaceId
      ? (await deps.store.spaces.list(registryId)).filter((s) => s.visibility === 'private').map((s) => s.name).sort()
      : [];
  const listed = (await deps.store.spaces.bindingsOfWorkspace(workspaceId)).filter((b) => b.registryId === registryId).map((b) => b.space);
  // GSI1 may still show a space unbound a moment ago (a robot would regain it) or miss one bound (a robot would lose it).
  const candidates = [...new Set([...listed, ...focus, ...held])];
  const spaces = await Promise.all(
    candidates.map(async (s) => ((await deps.store.spaces.binding(registryId, s, workspaceId)) ? deps.store.spaces.getLive(registryId, s) : undefined)),
  );
  return spaces
    .filter((s) => s?.visibility === 'private')
    .map((s) => s?.name ?? '')
    .sort();
};

const sameSet = (a: readonly string[], b: readonly string[]) => [...a].sort().join('\n') === [...b].sort().join('\n');

const specOf = (deps: Deps, workspaceId: string, projects: string[], durationDays: number): RobotSpec => ({
  name: robotNameOf(deps.pullAccess, workspaceId),
  description: `Pull access of workspace ${workspaceId}, kept by the platform image registry service: edits are reverted`,
  durationDays,
  projects,
});

/** A new secret item per version (Secrets Manager keeps a removed name for its recovery window). */
const sealRobotSecret = (deps: Deps, grant: Pick<PullGrant, 'registryId' | 'workspaceId'>, version: number, secret: string) =>
  deps.secrets.seal(`pull-${grant.registryId}-${grant.workspaceId}-v${version}-${randomBytes(4).toString('hex')}`, secret);

/**
 * Finds our robot in Harbor: by id when we know it, else by its name (created by a run that died before storing
 * it). Only a system robot with our exact name counts: an id Harbor reused for another robot is never taken over.
 */
const findRobot = async (deps: Deps, target: RegistryTarget, grant: PullGrant | undefined, workspaceId: string) => {
  const name = robotNameOf(deps.pullAccess, workspaceId);
  const ours = (r: HarborRobot | undefined) => !!r && r.level === 'system' && (r.name === name || r.name.endsWith(`$${name}`));
  const byId = grant?.robot ? await deps.registryApi.getRobot(target, grant.robot.id) : undefined;
  if (ours(byId)) return byId;
  return (await deps.registryApi.listRobots(target, name)).find(ours);
};

type Converged = { robot: NonNullable<PullGrant['robot']>; action: SyncOutcome['action']; rotated: boolean; oldSecretRef?: string };

/** Makes Harbor hold the robot `projects` ask for; refreshes its secret when it is new to us or a rotation is due. */
const convergeRobot = async (deps: Deps, target: RegistryTarget, grant: PullGrant, found: HarborRobot | undefined, rotate: boolean): Promise<Converged> => {
  const now = deps.clock();
  const version = (grant.robot?.secretVersion ?? 0) + 1;
  if (!found) {
    const created = await deps.registryApi.createRobot(target, specOf(deps, grant.workspaceId, grant.projects, deps.pullAccess.robotDays));
    const secretRef = await sealRobotSecret(deps, grant, version, created.secret);
    const robot = { id: created.id, name: created.name, projects: grant.projects, secretRef, secretVersion: version, rotatedAt: now.toISOString(), ...(created.expiresAt !== undefined ? { expiresAt: created.expiresAt } : {}) };
    return { robot, action: 'created', rotated: false, oldSecretRef: grant.robot?.secretRef };
  }
  // A robot we hold no secret for (adopted by name) must get a fresh one; so must one due for rotation.
  const known = grant.robot?.id === found.id;
  const refresh = rotate || !known;
  // A rotation extends the robot's life; so does finding one made to never expire (by hand): ours always expire.
  const extend = (refresh || found.expiresAt === -1 || found.duration === -1) && found.creationTime !== undefined;
  const durationDays = extend ? durationToLast(found.creationTime ?? '', now.getTime(), deps.pullAccess.robotDays) : (found.duration ?? deps.pullAccess.robotDays);
  const matches = robotMatches(found, grant.projects);
  const lengthened = durationDays !== found.duration;
  if (!matches || lengthened) await deps.registryApi.updateRobot(target, found, specOf(deps, grant.workspaceId, grant.projects, durationDays));
  // Harbor recomputes the expiry when the duration changes.
  const expiresAt = (lengthened ? await deps.registryApi.getRobot(target, found.id) : found)?.expiresAt ?? found.expiresAt;
  const base = { id: found.id, name: found.name, projects: grant.projects, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  const action = matches ? 'unchanged' : 'updated';
  if (!refresh && grant.robot) return { robot: { ...grant.robot, ...base }, action, rotated: false };
  const secret = await deps.registryApi.refreshRobotSecret(target, found.id);
  const secretRef = await sealRobotSecret(deps, grant, version, secret);
  const robot = { ...base, secretRef, secretVersion: version, rotatedAt: now.toISOString() };
  return { robot, action, rotated: true, oldSecretRef: grant.robot?.secretRef };
};

/** Records on the registry whether its credentials can keep robots, when that changed. */
const notePullAccess = async (deps: Deps, registry: Registry, status: 'available' | 'unavailable', message?: string) => {
  if (registry.pullAccess?.status === status && registry.pullAccess.message === message) return;
  await deps.store.registries.setPullAccess(registry.id, { status, checkedAt: deps.clock().toISOString(), ...(message ? { message } : {}) });
};

/**
 * Converges the pull access of W on R to the truth. Harbor down: the grant keeps its pending mark (`failing`) and
 * the sweep retries; Harbor refuses (the credentials cannot keep robots): `refused` with Harbor's reason, shown on
 * the registry (`pullAccess: unavailable`), retried by reconcile. Duplicated, late and reordered calls are harmless.
 */
export const syncPullGrant = async (deps: Deps, ctx: Ctx, registryId: string, workspaceId: string, opts: SyncOptions = {}): Promise<SyncOutcome> => {
  const registry = await deps.store.registries.get(registryId);
  const grant = await deps.store.pullGrants.get(registryId, workspaceId);
  const outcome = (action: SyncOutcome['action'], status: SyncOutcome['status'], rotated = false): SyncOutcome => ({ registryId, workspaceId, action, rotated, status });
  if (!registry || registry.kind !== 'harbor') return outcome(grant ? await retireGrant(deps, ctx, grant) : 'none', 'gone');
  const projects = await desiredProjects(deps, registry, workspaceId, opts.focus, [...(grant?.projects ?? []), ...(grant?.robot?.projects ?? [])]);
  // Nothing to hold and nothing held; reconcile still looks for a robot of ours Harbor has and we do not know.
  if (!grant && projects.length === 0 && !opts.verify) return outcome('none', 'gone');
  const now = deps.clock();
  const rotate = !!grant?.robot && ((grant.rotateRequestedAt ?? '') > grant.robot.rotatedAt || rotationDue(deps.pullAccess, grant.robot.expiresAt, now.getTime()));
  // A `removal` left by a registry removal that died before markRemoved (the registry is live): sync to drop it and its mark.
  if (grant && grant.status === 'synced' && !rotate && !opts.verify && !grant.removal && sameSet(grant.robot?.projects ?? [], projects) && sameSet(grant.projects, projects))
    return outcome('none', 'synced');

  // The mark first: if this process dies before Harbor answers, the sweep re-emits the request.
  const mark = newEvent(deps, ctx, PullAccessSyncRequested, { registryId, workspaceId, reason: 'change' });
  const markId = mark.detail.metadata.id;
  const pending: PullGrant = { ...(grant ?? {}), registryId, workspaceId, projects, status: 'pending', updatedAt: now.toISOString() };
  delete pending.statusMessage;
  delete pending.removal;
  await deps.store.pullGrants.putPending(pending, mark);
  try {
    const target = await targetOf(deps, registry);
    const found = await findRobot(deps, target, grant, workspaceId);
    if (projects.length === 0) {
      if (found) await deps.registryApi.deleteRobot(target, found.id);
      await deps.store.pullGrants.remove(registryId, workspaceId, markId);
      await dropSecret(deps, grant?.robot?.secretRef, { registryId, workspaceId });
      await notePullAccess(deps, registry, 'available');
      return outcome(found ? 'deleted' : 'none', 'gone');
    }
    const done = await convergeRobot(deps, target, pending, found, rotate);
    const synced: PullGrant = { ...pending, status: 'synced', robot: done.robot, syncedAt: now.toISOString() };
    await deps.store.pullGrants.settle(synced, markId);
    if (done.oldSecretRef && done.oldSecretRef !== done.robot.secretRef) await dropSecret(deps, done.oldSecretRef, { registryId, workspaceId });
    await notePullAccess(deps, registry, 'available');
    if (done.action !== 'unchanged' || done.rotated)
      logger.info('pull access synced', { registryId, workspaceId, robot: done.robot.name, projects: projects.length, action: done.action, rotated: done.rotated });
    return outcome(done.action, 'synced', done.rotated);
  } catch (error) {
    if (!(error instanceof RegistryCallError)) throw error;
    const message = error.message;
    if (error.kind === 'unavailable') {
      await deps.store.pullGrants.keepForRetry({ ...pending, status: 'failing', statusMessage: message });
      logger.warn('pull access sync failed; retried', { registryId, workspaceId, error: message });
      return outcome('none', 'failing');
    }
    await deps.store.pullGrants.settle({ ...pending, status: 'refused', statusMessage: message }, markId);
    await notePullAccess(deps, registry, 'unavailable', message);
    logger.warn('Harbor refused pull access', { registryId, workspaceId, error: message });
    return outcome('none', 'refused');
  }
};

/** The (registry, workspace) pairs a change can touch. */
const pairsOf = async (deps: Deps, event: BusEvent): Promise<Pair[]> => {
  const d = event.detail.data as Record<string, unknown>;
  switch (event.detailType) {
    case SpaceBound.detailType:
    case SpaceUnbound.detailType: {
      const { registryId, space, workspaceId } = SpaceBound.data.parse(d);
      return [{ registryId, workspaceId, focus: [space] }];
    }
    case SpaceCreated.detailType:
    case SpaceVisibilityChanged.detailType:
    case SpaceDeleted.detailType: {
      const { registryId, space } = SpaceDeleted.data.parse(d);
      // Bound now (consistent), the registry's owner, or held by a robot (an unbind or delete already went through).
      const [bindings, grants, registry] = await Promise.all([
        deps.store.spaces.bindings(registryId, space),
        deps.store.pullGrants.ofRegistry(registryId),
        deps.store.registries.get(registryId),
      ]);
      const workspaces = new Set([
        ...bindings.map((b) => b.workspaceId),
        ...(registry?.ownerWorkspaceId ? [registry.ownerWorkspaceId] : []),
        ...grants.filter((g) => g.projects.includes(space) || g.robot?.projects.includes(space)).map((g) => g.workspaceId),
      ]);
      return [...workspaces].map((workspaceId) => ({ registryId, workspaceId, focus: [space] }));
    }
    case PullAccessSyncRequested.detailType: {
      const { registryId, workspaceId, reason } = PullAccessSyncRequested.data.parse(d);
      return [{ registryId, workspaceId, verify: reason === 'reconcile' }];
    }
    default:
      return [];
  }
};

/**
 * Asks for the robots of `workspaceId` to get new secrets: marks each grant (`rotateRequestedAt`, pending mark), so
 * the rotation happens even if the caller dies before it publishes the returned events; the consumer rotates. A
 * namespace that left the workspace may keep the old secret in its cluster: after this it no longer works.
 */
export const requestRotation = async (deps: Deps, ctx: Ctx, workspaceId: string, at: string) => {
  const grants = (await grantsOfWorkspace(deps, workspaceId)).filter((g) => g.robot);
  const events: BusEvent[] = [];
  for (const grant of grants) {
    if ((grant.rotateRequestedAt ?? '') >= at) continue;
    const event = newEvent(deps, ctx, PullAccessSyncRequested, { registryId: grant.registryId, workspaceId, reason: 'rotation' });
    await deps.store.pullGrants.putPending({ ...grant, rotateRequestedAt: at }, event);
    events.push(event);
  }
  return { events, robots: grants.map((g) => ({ registryId: g.registryId, robot: g.robot?.name ?? '' })) };
};

/** A workspace's grants read consistently (one GetItem per Harbor registry): a robot stored a moment ago counts too. */
const grantsOfWorkspace = async (deps: Deps, workspaceId: string) => {
  const harbors = (await deps.store.registries.list()).filter((r) => r.kind === 'harbor');
  const grants = await Promise.all(harbors.map((r) => deps.store.pullGrants.get(r.id, workspaceId)));
  return grants.filter((g): g is PullGrant => g !== undefined);
};

/** The `sync-pull-access` consumer: converges every pair the change touches. */
export const handlePullAccessEvent = async (event: BusEvent, deps: Deps): Promise<SyncOutcome[]> => {
  const ctx = { correlationId: event.detail.metadata.correlationId, actor: 'sync-pull-access' };
  const outcomes: SyncOutcome[] = [];
  for (const { registryId, workspaceId, ...opts } of await pairsOf(deps, event)) outcomes.push(await syncPullGrant(deps, ctx, registryId, workspaceId, opts));
  return outcomes;
};

/**
 * Reconcile's part: asks the consumer to check, in Harbor, every pair of R that may hold a robot: the grants R has,
 * the workspaces bound to its private spaces, and robots named like ours that we do not know (deleted if unneeded).
 */
export const requestReconcileOfPullAccess = async (deps: Deps, ctx: Ctx, registry: Registry, target: RegistryTarget) => {
  if (registry.kind !== 'harbor') return 0;
  const spaces = (await deps.store.spaces.list(registry.id)).filter((s) => s.visibility === 'private');
  const bound = (await Promise.all(spaces.map((s) => deps.store.spaces.bindings(registry.id, s.name)))).flat().map((b) => b.workspaceId);
  const prefix = robotNameOf(deps.pullAccess, '');
  const strays = (await deps.registryApi.listRobots(target, prefix))
    .map((r) => r.name.slice(r.name.indexOf(prefix) + prefix.length))
    .filter((w) => WorkspaceId.safeParse(w).success);
  const owner = registry.ownerWorkspaceId ? [registry.ownerWorkspaceId] : [];
  const workspaces = new Set([...bound, ...owner, ...strays, ...(await deps.store.pullGrants.ofRegistry(registry.id)).map((g) => g.workspaceId)]);
  await publish(deps, ...[...workspaces].map((workspaceId) => newEvent(deps, ctx, PullAccessSyncRequested, { registryId: registry.id, workspaceId, reason: 'reconcile' })));
  return workspaces.size;
};

/** The schedule: asks for a rotation of every robot whose life is running out (less than a third left). */
export const rotateExpiringRobots = async (deps: Deps, ctx: Ctx) => {
  const now = deps.clock().getTime();
  const due = (await deps.store.pullGrants.all()).filter((g) => g.robot && rotationDue(deps.pullAccess, g.robot.expiresAt, now));
  await publish(deps, ...due.map((g) => newEvent(deps, ctx, PullAccessSyncRequested, { registryId: g.registryId, workspaceId: g.workspaceId, reason: 'rotation' })));
  return { due: due.length };
};

/**
 * The registry is gone: deletes the grant's robot in Harbor with the credentials kept for it (`removal`), then the
 * grant, the robot's secret and, with the registry's last grant, the registry's secrets. Harbor down: kept, with its
 * pending mark, for the sweep. A grant without `removal` (nothing to reach Harbor with) is only forgotten.
 */
const retireGrant = async (deps: Deps, ctx: Ctx, grant: PullGrant): Promise<SyncOutcome['action']> => {
  const { registryId, workspaceId, removal } = grant;
  let deleted = false;
  if (removal) {
    const mark = newEvent(deps, ctx, PullAccessSyncRequested, { registryId, workspaceId, reason: 'change' });
    await deps.store.pullGrants.putPending({ ...grant, status: 'pending' }, mark);
    try {
      const { credentials } = RegistrySecrets.parse(JSON.parse(await deps.secrets.open(removal.secretRef)));
      const target: RegistryTarget = { kind: removal.kind, url: removal.url, ...(credentials ? { credentials } : {}) };
      const found = await findRobot(deps, target, grant, workspaceId);
      if (found) await deps.registryApi.deleteRobot(target, found.id);
      deleted = !!found;
    } catch (error) {
      if (!(error instanceof RegistryCallError)) throw error;
      if (error.kind === 'unavailable') {
        await deps.store.pullGrants.keepForRetry({ ...grant, status: 'failing', statusMessage: error.message });
        logger.warn('robot of a removed registry not deleted yet; retried', { registryId, workspaceId, error: error.message });
        return 'none';
      }
      logger.warn('Harbor refused to delete a robot of a removed registry: delete it in Harbor', { registryId, robot: grant.robot?.name, error: error.message });
    }
  }
  await deps.store.pullGrants.remove(registryId, workspaceId);
  await dropSecret(deps, grant.robot?.secretRef, { registryId, workspaceId });
  if (removal && (await deps.store.pullGrants.ofRegistry(registryId)).length === 0) await dropSecret(deps, removal.secretRef, { registryId });
  return deleted ? 'deleted' : 'none';
};

/**
 * Removing a registry: each of its grants is marked for retirement first (with what it takes to reach Harbor), so
 * the consumer deletes the robots even if this process dies or Harbor is down now. Answers whether the registry's
 * secrets are now held by its grants (then the last one removes them).
 */
export const retireRobotsOf = async (deps: Deps, ctx: Ctx, registry: Registry): Promise<{ events: BusEvent[]; keepsSecrets: boolean }> => {
  if (registry.kind !== 'harbor') return { events: [], keepsSecrets: false };
  const removal = { kind: registry.kind, url: registry.url, secretRef: registry.secretRef };
  const events: BusEvent[] = [];
  for (const grant of await deps.store.pullGrants.ofRegistry(registry.id)) {
    const event = newEvent(deps, ctx, PullAccessSyncRequested, { registryId: registry.id, workspaceId: grant.workspaceId, reason: 'change' });
    await deps.store.pullGrants.putPending({ ...grant, removal }, event);
    events.push(event);
  }
  return { events, keepsSecrets: events.length > 0 };
};

/** What the API shows of a grant: never the secret or its reference. */
export const pullGrantView = (g: PullGrant) => ({
  registryId: g.registryId,
  workspaceId: g.workspaceId,
  projects: g.projects,
  status: g.status,
  ...(g.statusMessage ? { statusMessage: g.statusMessage } : {}),
  ...(g.robot
    ? { robot: { name: g.robot.name, projects: g.robot.projects, rotatedAt: g.robot.rotatedAt, ...(g.robot.expiresAt !== undefined ? { expiresAt: g.robot.expiresAt === -1 ? null : new Date(g.robot.expiresAt * 1000).toISOString() } : {}) } }
    : {}),
  ...(g.syncedAt ? { syncedAt: g.syncedAt } : {}),
});

/**
 * `POST /workspaces/{id}/pull-credentials/rotate`: every robot of the workspace gets a new secret, asynchronously
 * (the robots are written by the serial consumer only). The answer lists the robots; each grant's `robot.rotatedAt`
 * (workspace view) and the pull secret's ETag change when its rotation is done.
 */
export const rotateWorkspacePullCredentials = async (workspaceId: string, deps: Deps, ctx: Ctx) => {
  if (!(await deps.store.tenancy.getWorkspace(workspaceId))) throw notFound(`workspace ${workspaceId} not found`);
  const requestedAt = deps.clock().toISOString();
  const { events, robots } = await requestRotation(deps, ctx, workspaceId, requestedAt);
  await recordAudit(deps, ctx, { action: 'PullCredentialsRotated', target: { workspaceId }, workspaces: [workspaceId] });
  await publish(deps, ...events);
  return { workspaceId, requestedAt, robots };
};
