import * as z from 'zod';
import { WorkspaceId, type Namespace } from '../domain/model.ts';
import { audiencesOfSpace, maySelect, type SpaceGrant } from '../domain/rule.ts';
import type { Deps } from '../deps.ts';
import { badRequest, notFound } from '../errors.ts';
import { getRegistryOrThrow } from './registry-access.ts';

const First = z.number().int().min(1).max(100).default(20).describe('how many image and namespace names to list (the counts are always complete)');

/** What the admin is about to do to a space; nothing is changed. */
export const SpaceChangePreviewInput = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('make-private'), first: First }),
  z.strictObject({ action: z.literal('unbind'), workspaceId: WorkspaceId, first: First }),
  z.strictObject({ action: z.literal('delete'), first: First }),
]);
export type SpaceChangePreviewInput = z.infer<typeof SpaceChangePreviewInput>;

const SpaceRule = z.object({
  visibility: z.enum(['public', 'private']),
  boundWorkspaces: z.array(z.string()),
  owner: z.string().optional().describe('the workspace that owns the registry: the only one offered its spaces'),
});

export const BlastRadius = z.object({
  registryId: z.string(),
  space: z.string(),
  action: z.enum(['make-private', 'unbind', 'delete']),
  before: SpaceRule,
  /** null: the space would be gone. */
  after: SpaceRule.nullable(),
  removedAudiences: z.array(z.string()).describe('index audiences that would lose the space’s rows'),
  images: z.object({ count: z.int(), first: z.array(z.string()) }).describe('the space’s images the selector offers now'),
  namespaces: z
    .object({
      count: z.int(),
      first: z.array(z.string()),
      alsoUnregistered: z.boolean().describe('every namespace the service does not know (or bound to no workspace) loses them too'),
    })
    .describe('registered namespaces (`cluster/namespace`) that would stop seeing the images'),
  pullAccess: z
    .object({
      robots: z.array(z.object({ workspaceId: z.string(), robot: z.string() })).describe('Harbor robots that would lose the project'),
      namespaces: z.object({ count: z.int(), first: z.array(z.string()) }).describe('registered namespaces whose pull secret would stop pulling the space'),
    })
    .describe('who loses pull access: a private space loses it with its bindings; a public one made private, every namespace but the bound ones'),
  asOf: z.string(),
});
export type BlastRadius = z.infer<typeof BlastRadius>;

type Rule = SpaceGrant & { boundWorkspaces: string[] };
const sees = (rule: Rule | null, workspaceId: string | null) => rule !== null && maySelect(rule, workspaceId);

/**
 * Dry run of making a space private, unbinding it from a workspace, or deleting it: which images and which
 * namespaces would lose them, judged by the rule itself (a namespace loses the space iff it may select it
 * before and not after). Reads the truth and the repositories' index records; writes nothing.
 */
export const previewSpaceChange = async (registryId: string, spaceName: string, input: SpaceChangePreviewInput, deps: Deps): Promise<BlastRadius> => {
  const registry = await getRegistryOrThrow(deps, registryId);
  const space = await deps.store.spaces.getLive(registryId, spaceName);
  if (!space) throw notFound(`space ${spaceName} not found in registry ${registryId}`);
  if (input.action === 'make-private' && registry.kind === 'docker-registry')
    throw badRequest(`spaces of Docker Registry ${registry.id} are always public`, { registryId: registry.id });
  if (input.action === 'unbind' && !(await deps.store.tenancy.getWorkspace(input.workspaceId))) throw notFound(`workspace ${input.workspaceId} not found`);

  const [bindings, repositories] = await Promise.all([deps.store.spaces.bindings(registryId, spaceName), deps.store.catalog.repositories(registryId, spaceName)]);
  const bound = [...new Set(bindings.map((b) => b.workspaceId))].sort();
  const owner = registry.ownerWorkspaceId ? { owner: registry.ownerWorkspaceId } : {};
  const before: Rule = { visibility: space.visibility, boundWorkspaces: bound, ...owner };
  const after: Rule | null =
    input.action === 'delete'
      ? null
      : input.action === 'make-private'
        ? { visibility: 'private', boundWorkspaces: bound, ...owner }
        : { visibility: space.visibility, boundWorkspaces: bound.filter((w) => w !== input.workspaceId), ...owner };
  // The workspaces whose namespaces may see the space now, besides every namespace when it is public.
  const granted = [...new Set([...bound, ...(registry.ownerWorkspaceId ? [registry.ownerWorkspaceId] : [])])];

  // Losing the public audience can touch any namespace; otherwise only those of the bound workspaces.
  const losesPublic = sees(before, null) && !sees(after, null);
  const candidates: Namespace[] = losesPublic
    ? await deps.store.tenancy.listNamespaces()
    : (await Promise.all(granted.map((w) => deps.store.tenancy.namespacesOfWorkspace(w)))).flat();
  const losing = candidates
    .filter((n) => sees(before, n.workspaceId) && !sees(after, n.workspaceId))
    .map((n) => `${n.cluster}/${n.namespace}`)
    .sort();

  const offered = repositories
    .filter((r) => r.indexedImage && (r.indexedAudiences ?? []).length > 0)
    .map((r) => r.indexedImage ?? '')
    .sort();
  // Pull access follows the rule: a namespace may pull iff it may select (public projects pull anonymously).
  const losingWorkspaces = granted.filter((w) => sees(before, w) && !sees(after, w));
  const grants = registry.kind === 'harbor' ? await deps.store.pullGrants.ofRegistry(registryId) : [];
  const robots = grants
    .filter((g) => losingWorkspaces.includes(g.workspaceId) && g.robot?.projects.includes(spaceName))
    .map((g) => ({ workspaceId: g.workspaceId, robot: g.robot?.name ?? '' }));
  const beforeAudiences = audiencesOfSpace(before);
  const afterAudiences = after ? audiencesOfSpace(after) : [];
  return {
    registryId,
    space: spaceName,
    action: input.action,
    before,
    after,
    removedAudiences: beforeAudiences.filter((a) => !afterAudiences.includes(a)),
    images: { count: offered.length, first: offered.slice(0, input.first) },
    namespaces: { count: losing.length, first: losing.slice(0, input.first), alsoUnregistered: losesPublic },
    pullAccess: { robots, namespaces: { count: losing.length, first: losing.slice(0, input.first) } },
    asOf: deps.clock().toISOString(),
  };
};
