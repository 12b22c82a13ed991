import * as z from 'zod';
import { Namespace } from '../domain/model.ts';
import type { Deps } from '../deps.ts';
import { isPlatformAdmin, readableWorkspaces, type Caller } from '../domain/caller.ts';

export const MyNamespaces = z.object({
  admin: z.boolean(),
  workspaces: z.array(z.string()).describe('the workspaces whose namespaces the token reads: its `workspaces` claim and those it is the admin of (`workspace-admin:<id>` roles)'),
  items: z.array(Namespace.pick({ cluster: true, namespace: true, workspaceId: true })).describe('sorted by cluster, then namespace'),
});
export type MyNamespaces = z.infer<typeof MyNamespaces>;

/**
 * The namespaces a token may open in the selector: those bound to the token's workspaces (GSI1, one Query per
 * workspace), or every registered namespace for an admin. A namespace that just moved may still be listed for a
 * moment (GSI lag); the selector checks the truth on every call, so that never grants anything.
 */
export const listMyNamespaces = async (caller: Caller, deps: Deps): Promise<MyNamespaces> => {
  const admin = isPlatformAdmin(caller);
  const workspaces = readableWorkspaces(caller);
  const found = admin
    ? await deps.store.tenancy.listNamespaces()
    : (await Promise.all(workspaces.map((w) => deps.store.tenancy.namespacesOfWorkspace(w)))).flat();
  const items = found
    .filter((n) => admin || (n.workspaceId !== null && workspaces.includes(n.workspaceId)))
    .map((n) => ({ cluster: n.cluster, namespace: n.namespace, workspaceId: n.workspaceId }))
    .sort((a, b) => (a.cluster === b.cluster ? (a.namespace < b.namespace ? -1 : 1) : a.cluster < b.cluster ? -1 : 1));
  return { admin, workspaces, items };
};
