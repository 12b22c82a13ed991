import { Label } from './model.ts';

/**
 * Who calls, as the token's claims say (`shared/http/claims.ts` checks them): a platform admin (`roles` holds
 * `platform-admin`), the admin of workspace W (`roles` holds `workspace-admin:W`, which also makes them a reader of
 * W), and a reader of the workspaces in `workspaces`. Nothing else grants anything: a role this service does not
 * know, or a `workspace-admin:` entry whose id is not a workspace id, is ignored.
 */
export type Caller = { readonly sub: string; readonly roles: readonly string[]; readonly workspaces: readonly string[] };

export const PLATFORM_ADMIN = 'platform-admin';
const WORKSPACE_ADMIN = 'workspace-admin:';

/** The role that makes its holder the admin of `workspaceId`. */
export const workspaceAdminRole = (workspaceId: string) => `${WORKSPACE_ADMIN}${workspaceId}`;

export const isPlatformAdmin = (caller: Caller) => caller.roles.includes(PLATFORM_ADMIN);

/** The workspaces the caller is the admin of (not counting a platform admin's reach over all). */
export const adminWorkspaces = (caller: Caller): string[] => [
  ...new Set(
    caller.roles
      .filter((r) => r.startsWith(WORKSPACE_ADMIN))
      .map((r) => r.slice(WORKSPACE_ADMIN.length))
      .filter((w) => Label.safeParse(w).success),
  ),
];

/** A platform admin, or the admin of at least one workspace: who may call the routes of access `workspace-admin`. */
export const isAnyAdmin = (caller: Caller) => isPlatformAdmin(caller) || adminWorkspaces(caller).length > 0;

export const mayAdminWorkspace = (caller: Caller, workspaceId: string) => isPlatformAdmin(caller) || adminWorkspaces(caller).includes(workspaceId);

/** The workspaces whose namespaces the caller may read (a platform admin reads every namespace, see `mayReadWorkspace`). */
export const readableWorkspaces = (caller: Caller): string[] => [...new Set([...caller.workspaces, ...adminWorkspaces(caller)])];

export const mayReadWorkspace = (caller: Caller, workspaceId: string) => isPlatformAdmin(caller) || readableWorkspaces(caller).includes(workspaceId);

/** This service's own job reading on its behalf (the admission review explains refusals): sees what a platform admin sees. */
export const systemCaller = (job: string): Caller => ({ sub: job, roles: [PLATFORM_ADMIN], workspaces: [] });
