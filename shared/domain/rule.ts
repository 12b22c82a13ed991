import type { Audience, Visibility } from './model.ts';

/** The audience every namespace belongs to. */
export const PUBLIC: Audience = 'public';
export const workspaceAudience = (workspaceId: string): Audience => `workspace:${workspaceId}`;

/**
 * What decides who may select a space's images: its visibility, the workspaces it is bound to, and the workspace that
 * owns its registry (`owner`, absent for a platform registry).
 */
export type SpaceGrant = { visibility: Visibility; boundWorkspaces: readonly string[]; owner?: string | undefined };

/**
 * The rule, seen from a space: who may select its images. A workspace-owned registry's space → its owner only,
 * whatever its visibility or bindings; public → everyone (and each bound workspace, so `grantedBy` can name every
 * reason); private → only the workspaces it is bound to.
 */
export const audiencesOfSpace = ({ visibility, boundWorkspaces, owner }: SpaceGrant): Audience[] =>
  owner
    ? [workspaceAudience(owner)]
    : [...(visibility === 'public' ? [PUBLIC] : []), ...[...new Set(boundWorkspaces)].sort().map(workspaceAudience)];

/** The rule, seen from a namespace: an unknown or unbound namespace sees only the public audience. */
export const audiencesOfNamespace = (workspaceId: string | null | undefined): Audience[] =>
  workspaceId ? [PUBLIC, workspaceAudience(workspaceId)] : [PUBLIC];

/**
 * N may select the images of S ⇔ (S's registry is owned by W ∧ N is bound to W) ∨ (S's registry is a platform
 * registry ∧ (S is public ∨ (S is bound to W ∧ N is bound to W))).
 */
export const maySelect = (space: SpaceGrant, namespaceWorkspace: string | null | undefined): boolean =>
  space.owner
    ? namespaceWorkspace === space.owner
    : space.visibility === 'public' || (namespaceWorkspace != null && space.boundWorkspaces.includes(namespaceWorkspace));
