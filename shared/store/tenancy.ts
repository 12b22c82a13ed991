import type { BusEvent } from '../../events/contract.ts';
import { Namespace, Workspace } from '../domain/model.ts';
import { keys } from './keys.ts';
import { pendingMark } from './pending.ts';
import type { TableOps } from './table.ts';

/** Workspaces (tenants) and the namespaces bound to them. */
export const tenancyRepository = (ops: TableOps) => ({
  getWorkspace: (id: string) => ops.get(Workspace, keys.workspace(id)),
  listWorkspaces: () => ops.queryAll(Workspace, keys.allWorkspaces()),
  /** Creates or updates; keeps the first `createdAt`. Returns the stored workspace. */
  putWorkspace: async (id: string, displayName: string | undefined, at: string) => {
    const existing = await ops.get(Workspace, keys.workspace(id));
    const workspace: Workspace = { id, ...(displayName !== undefined ? { displayName } : {}), createdAt: existing?.createdAt ?? at };
    await ops.put({ ...keys.workspace(id), entityType: 'Workspace', ...workspace });
    return { workspace, created: !existing };
  },
  deleteWorkspace: (id: string) => ops.remove(keys.workspace(id), { ConditionExpression: 'attribute_exists(pk)' }),
  namespacesOfWorkspace: (workspaceId: string) =>
    ops.queryAll(Namespace, { index: 'gsi1', pk: keys.namespacesOfWorkspace(workspaceId).gsi1pk, skPrefix: 'NAMESPACE#' }),

  getNamespace: (cluster: string, namespace: string) => ops.get(Namespace, keys.namespace(cluster, namespace)),
  listNamespaces: () => ops.queryAll(Namespace, keys.allNamespaces()),
  putNamespace: (ns: Namespace, event: BusEvent) =>
    ops.put({
      ...keys.namespace(ns.cluster, ns.namespace),
      ...(ns.workspaceId ? keys.namespaceByWorkspace(ns.workspaceId, ns.cluster, ns.namespace) : {}),
      entityType: 'Namespace',
      ...ns,
      ...pendingMark(event),
    }),
  deleteNamespace: (cluster: string, namespace: string) =>
    ops.remove(keys.namespace(cluster, namespace), { ConditionExpression: 'attribute_exists(pk)' }),
});
