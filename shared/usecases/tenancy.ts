import * as z from 'zod';
import { NamespaceBound } from '../../events/index.ts';
import { WorkspaceId, type Namespace } from '../domain/model.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { conflict, forbidden, notFound } from '../errors.ts';
import { adminWorkspaces, isPlatformAdmin, mayAdminWorkspace, mayReadWorkspace, type Caller } from '../domain/caller.ts';
import { recordAudit } from './audit.ts';
import { pullGrantView, requestRotation } from './pull-access.ts';

export const PutWorkspaceInput = z.strictObject({ displayName: z.string().trim().min(1).max(200).optional() });
export const PutNamespaceInput = z.strictObject({ workspaceId: WorkspaceId.nullable() });

export const putWorkspace = async (id: string, input: z.infer<typeof PutWorkspaceInput>, deps: Deps, ctx: Ctx) => {
  const put = await deps.store.tenancy.putWorkspace(id, input.displayName, deps.clock().toISOString());
  await recordAudit(deps, ctx, { action: put.created ? 'WorkspaceCreated' : 'WorkspaceUpdated', target: { workspaceId: id }, workspaces: [id] });
  return put;
};

export const getWorkspace = async (id: string, deps: Deps) => {
  const workspace = await deps.store.tenancy.getWorkspace(id);
  if (!workspace) throw notFound(`workspace ${id} not found`);
  return workspace;
};

/**
 * The workspace, the spaces bound to it and its pull access (one Harbor robot per registry where it has a bound
 * private space; no secret). Its readers already see the bound spaces' names in the selector.
 */
export const getWorkspaceDetail = async (id: string, deps: Deps) => ({
  ...(await getWorkspace(id, deps)),
  spaces: (await deps.store.spaces.bindingsOfWorkspace(id)).map((b) => ({ registryId: b.registryId, space: b.space, createdAt: b.createdAt })),
  pullAccess: (await deps.store.pullGrants.ofWorkspace(id)).map(pullGrantView),
});

/** Every workspace for a platform admin; for a workspace admin, theirs. */
export const listWorkspaces = async (caller: Caller, deps: Deps) => {
  const all = await deps.store.tenancy.listWorkspaces();
  return { items: isPlatformAdmin(caller) ? all : all.filter((w) => mayAdminWorkspace(caller, w.id)) };
};

/**
 * Refuses while spaces or namespaces are still bound to the workspace, or it owns registries, and says which: a
 * workspace's registries are removed by a decision of their own (it purges their spaces), never as a side effect.
 */
export const deleteWorkspace = async (id: string, deps: Deps, ctx: Ctx) => {
  await getWorkspace(id, deps);
  const [bindings, namespaces, registries] = await Promise.all([
    deps.store.spaces.bindingsOfWorkspace(id),
    deps.store.tenancy.namespacesOfWorkspace(id),
    deps.store.registries.list(),
  ]);
  const owned = registries.filter((r) => r.ownerWorkspaceId === id);
  if (bindings.length || namespaces.length || owned.length)
    throw conflict(`workspace ${id} is still in use: unbind its spaces and namespaces and remove its registries first`, {
      spaces: bindings.slice(0, 20).map((b) => `${b.registryId}/${b.space}`),
      namespaces: namespaces.slice(0, 20).map((n) => `${n.cluster}/${n.namespace}`),
      registries: owned.slice(0, 20).map((r) => r.id),
      spaceCount: bindings.length,
      namespaceCount: namespaces.length,
      registryCount: owned.length,
    });
  await deps.store.tenancy.deleteWorkspace(id);
  await recordAudit(deps, ctx, { action: 'WorkspaceDeleted', target: { workspaceId: id }, workspaces: [id] });
};


/**
 * A namespace leaving a workspace may keep that workspace's pull secret in its cluster: the workspace's robots are
 * marked for rotation *before* the namespace moves (the marks survive a crash or a bus that is down), and the
 * returned requests are published after it.
 */
const rotateLeftWorkspace = async (deps: Deps, ctx: Ctx, existing: Namespace | undefined) =>
  existing?.workspaceId ? (await requestRotation(deps, ctx, existing.workspaceId, deps.clock().toISOString())).events : [];

/** Binds a namespace to a workspace, or to none. O(1): the selector reads the binding, no index rows move. */
export const putNamespace = async (cluster: string, namespace: string, input: z.infer<typeof PutNamespaceInput>, deps: Deps, ctx: Ctx) => {
  if (input.workspaceId && !(await deps.store.tenancy.getWorkspace(input.workspaceId)))
    throw notFound(`workspace ${input.workspaceId} not found`);
  const existing = await deps.store.tenancy.getNamespace(cluster, namespace);
  const ns: Namespace = { cluster, namespace, workspaceId: input.workspaceId, updatedAt: deps.clock().toISOString() };
  if (existing?.workspaceId === ns.workspaceId) return { namespace: existing, created: false };
  const rotations = await rotateLeftWorkspace(deps, ctx, existing);
  const event = newEvent(deps, ctx, NamespaceBound, { cluster, namespace, workspaceId: input.workspaceId, previousWorkspaceId: existing?.workspaceId ?? null });
  await deps.store.tenancy.putNamespace(ns, event);
  await publish(deps, event, ...rotations);
  return { namespace: ns, created: !existing };
};

/**
 * Readers (and workspace admins) see the namespaces of their workspaces; platform admins see every namespace (absent
 * → undefined).
 */
export const readableNamespace = async (deps: Deps, caller: Caller, cluster: string, namespace: string): Promise<Namespace | undefined> => {
  const ns = await deps.store.tenancy.getNamespace(cluster, namespace);
  if (isPlatformAdmin(caller)) return ns;
  if (!ns?.workspaceId || !mayReadWorkspace(caller, ns.workspaceId))
    throw forbidden(`your token does not grant namespace ${cluster}/${namespace}`);
  return ns;
};

export const getNamespace = async (cluster: string, namespace: string, caller: Caller, deps: Deps) => {
  const ns = await readableNamespace(deps, caller, cluster, namespace);
  if (!ns) throw notFound(`namespace ${cluster}/${namespace} not found`);
  return ns;
};

/** Every namespace for a platform admin; for a workspace admin, those of their workspaces (GSI1, one Query each). */
export const listNamespaces = async (caller: Caller, deps: Deps) => {
  if (isPlatformAdmin(caller)) return { items: await deps.store.tenancy.listNamespaces() };
  return { items: (await Promise.all(adminWorkspaces(caller).map((w) => deps.store.tenancy.namespacesOfWorkspace(w)))).flat() };
};

/** Forgets a namespace: from then on it sees the public images only, and its workspace's pull credentials are rotated. */
export const deleteNamespace = async (cluster: string, namespace: string, deps: Deps, ctx: Ctx) => {
  const existing = await deps.store.tenancy.getNamespace(cluster, namespace);
  if (!existing) throw notFound(`namespace ${cluster}/${namespace} not found`);
  const rotations = await rotateLeftWorkspace(deps, ctx, existing);
  if (!(await deps.store.tenancy.deleteNamespace(cluster, namespace))) throw notFound(`namespace ${cluster}/${namespace} not found`);
  await publish(deps, newEvent(deps, ctx, NamespaceBound, { cluster, namespace, workspaceId: null, previousWorkspaceId: existing.workspaceId }), ...rotations);
};
