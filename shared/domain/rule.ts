import type { Audience, Visibility } from './model.ts';

/** The audience every namespace belongs to. */
export const PUBLIC: Audience = 'public';
export const workspaceAudience = (workspaceId: string): Audience => `workspace:${workspaceId}`;

/**
 * The rule, seen from a space: who may select its images. Public → everyone (and each bound workspace,
 * so `grantedBy` can name every reason); private → only the workspaces it is bound to.
 */
export const audiencesOfSpace = (visibility: Visibility, boundWorkspaces: readonly string[]): Audience[] => [
  ...(visibility === 'public' ? [PUBLIC] : []),
  ...[...new Set(boundWorkspaces)].sort().map(workspaceAudience),
];

/** The rule, seen from a namespace: an unknown or unbound namespace sees only the public audience. */
export const audiencesOfNamespace = (workspaceId: string | null | undefined): Audience[] =>
  workspaceId ? [PUBLIC, workspaceAudience(workspaceId)] : [PUBLIC];

/** N may select the images of S ⇔ S is public ∨ (S is bound to W ∧ N is bound to W). */
export const maySelect = (
  space: { visibility: Visibility; boundWorkspaces: readonly string[] },
  namespaceWorkspace: string | null | undefined,
): boolean =>
  space.visibility === 'public' || (namespaceWorkspace != null && space.boundWorkspaces.includes(namespaceWorkspace));
