import * as z from 'zod';
import { RepositoryName, SpaceName, imageRef, splitPath, type Namespace, type Registry, type Space, type Tag } from '../domain/model.ts';
import { audiencesOfNamespace, maySelect } from '../domain/rule.ts';
import { isoTime } from '../domain/time.ts';
import type { Deps } from '../deps.ts';
import { isPlatformAdmin, mayAdminWorkspace, type Caller } from '../domain/caller.ts';
import { badRequest, forbidden } from '../errors.ts';
import { keys, type Key } from '../store/keys.ts';

export const ExplainQuery = z.strictObject({
  image: z
    .string()
    .trim()
    .min(1)
    .max(1024)
    .describe('`host/space/repository`, optionally with `:tag` or `@sha256:…` (then that tag or digest is checked too)'),
});

/** One link of the chain that makes an image selectable in a namespace. */
export const ExplainFact = z.object({
  link: z.enum(['registry', 'space', 'namespace', 'grant', 'repository', 'index', 'tag', 'pull']),
  holds: z.boolean(),
  statement: z.string(),
});
export type ExplainFact = z.infer<typeof ExplainFact>;

export const PendingChange = z.object({ detailType: z.string(), occurredAt: z.string() });

export const Explanation = z.object({
  image: z.string(),
  reference: z.object({ tag: z.string().optional(), digest: z.string().optional() }),
  namespace: z.string(),
  visible: z.boolean(),
  facts: z.array(ExplainFact).describe('the chain, in order, up to and including the first link that does not hold'),
  missingLink: ExplainFact.nullable(),
  pullAccess: ExplainFact.nullable().describe('whether the namespace’s pull secret can pull the image (robot, pull credentials, anonymous), or the missing link; null when the space is unknown'),
  /** The namespace's audiences that hold an index row for the image right now (what the selector lists). */
  offeredBy: z.array(z.string()),
  asOf: z.string().describe('every change to this image’s truth made before this time is reflected in the index'),
  pendingChanges: z.array(PendingChange).describe('changes to this image’s truth that the indexer has not applied yet'),
});
export type Explanation = z.infer<typeof Explanation>;

/** Splits `host/path[:tag][@digest]`; the host may carry a port. */
export const parseImageReference = (ref: string) => {
  let rest = ref;
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) [rest, digest] = [rest.slice(0, at), rest.slice(at + 1)];
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/') && rest.includes('/')) [rest, tag] = [rest.slice(0, colon), rest.slice(colon + 1)];
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) throw badRequest(`image ${ref} is not host/space/repository`);
  return { host: rest.slice(0, slash), path: rest.slice(slash + 1), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
};

const MAX_PENDING_READ = 500;

/**
 * Index freshness for one image. The index is derived from the truth by the indexer; a change not yet applied
 * still carries its pending mark (GSI2, oldest first). So: when no mark touches this image's truth (its
 * registry, space, bindings or tags), the index reflects every change made before the read → `asOf` = the read
 * time; otherwise `asOf` = the oldest such mark's time. Namespace marks do not count: the selector reads a
 * namespace's workspace from the truth, never from the index. If more marks wait than one read returns, the
 * oldest mark of all is used (a conservative bound). GSI2 is eventually consistent in DynamoDB, so a change of
 * the last few hundred milliseconds may not show yet.
 */
const freshness = async (deps: Deps, readAt: Date, registryId: string | undefined, space: string | undefined, path: string) => {
  const marks = await deps.store.pending.olderThan(new Date(readAt.getTime() + 1).toISOString(), MAX_PENDING_READ);
  const touches = (key: Key) =>
    !!registryId &&
    ((key.pk === keys.registry(registryId).pk && key.sk === keys.registry(registryId).sk) ||
      (!!space && key.pk === keys.space(registryId, space).pk && key.sk === keys.space(registryId, space).sk) ||
      (!!space && key.pk === keys.bindingsOfSpace(registryId, space).pk) ||
      key.pk === keys.tagsOfRepository(registryId, path).pk);
  const pending = marks.filter((m) => touches(m.key)).map((m) => ({ detailType: m.event.detailType, occurredAt: m.event.detail.metadata.occurredAt }));
  const oldest = marks[0]?.event.detail.metadata.occurredAt;
  const bound = marks.length >= MAX_PENDING_READ ? oldest : pending[0]?.occurredAt;
  return { asOf: bound ?? readAt.toISOString(), pending, oldestOfAll: oldest ?? readAt.toISOString() };
};

const fmtWorkspaces = (ws: readonly string[]) => (ws.length ? ws.join(', ') : 'no workspace');

/** The chain of facts, in order; building stops at the first link that does not hold. */
const chain = (input: {
  ref: ReturnType<typeof parseImageReference>;
  image: string;
  nsName: string;
  ns: Namespace | undefined;
  registry: Registry | undefined;
  space: Space | undefined;
  spaceName: string;
  repository: string;
  bound: string[];
  tags: Tag[];
  offeredBy: string[];
  pending: number;
}): ExplainFact[] => {
  const { ref, ns, registry, space, bound, tags, offeredBy } = input;
  const facts: ExplainFact[] = [];
  const add = (link: ExplainFact['link'], holds: boolean, statement: string) => (facts.push({ link, holds, statement }), holds);

  if (!registry) return add('registry', false, `no connected registry serves host ${ref.host}`), facts;
  add('registry', true, `host ${ref.host} → registry ${registry.id} (${registry.kind} "${registry.name}")`);

  const harborWithoutProject = registry.kind === 'harbor' && !ref.path.includes('/');
  if (harborWithoutProject || !SpaceName.safeParse(input.spaceName).success || !RepositoryName.safeParse(ref.path).success)
    return add('space', false, `${ref.path} is not a repository path of this ${registry.kind === 'harbor' ? 'Harbor (project/repository)' : 'registry'}`), facts;
  if (!space) return add('space', false, `registry ${registry.id} has no space ${input.spaceName}`), facts;
  add('space', true, `space ${space.name} ${space.visibility}${bound.length ? `, bound to ${fmtWorkspaces(bound)}` : ''}`);

  const workspace = ns?.workspaceId ?? null;
  const owner = registry.ownerWorkspaceId;
  if (workspace) add('namespace', true, `namespace ${input.nsName} → workspace ${workspace}`);
  else {
    const why = ns ? 'is bound to no workspace' : 'is not registered';
    const holds = !owner && space.visibility === 'public';
    const unless = owner ? `, and registry ${registry.id} is owned by workspace ${owner}` : `, and space ${space.name} is private`;
    if (!add('namespace', holds, `namespace ${input.nsName} ${why}: it sees public images only${holds ? '' : unless}`)) return facts;
  }

  if (owner) {
    const holds = maySelect({ visibility: space.visibility, boundWorkspaces: bound, owner }, workspace);
    if (!add('grant', holds, `registry ${registry.id} is owned by workspace ${owner}: its spaces are offered to ${holds ? `${owner}'s namespaces` : `no other workspace than ${owner}`}, whatever their visibility`))
      return facts;
  } else if (space.visibility === 'public') add('grant', true, `space ${space.name} is public: offered to every namespace`);
  else if (!add('grant', maySelect({ visibility: space.visibility, boundWorkspaces: bound }, workspace),
    bound.includes(workspace ?? '') ? `space ${space.name} bound to ${workspace}` : `space ${space.name} is not bound to ${workspace} (bound to ${fmtWorkspaces(bound)})`))
    return facts;

  const present = tags.filter((t) => t.state === 'present' && t.digest);
  if (present.length === 0)
    return add('repository', false, tags.length ? `every tag of ${ref.path} was deleted` : `no tag of ${ref.path} was ever seen (pushed, or found by reconcile)`), facts;
  const latest = present.reduce((a, b) => (b.eventTime > a.eventTime ? b : a));
  add('repository', true, `repository ${input.repository}: ${present.length} tag${present.length === 1 ? '' : 's'}, latest ${latest.tag} pushed ${isoTime(latest.eventTime) ?? 'at a time beyond any date'}`);

  if (offeredBy.length === 0)
    return add('index', false, input.pending
      ? `the index has not caught up yet: ${input.pending === 1 ? '1 change waits' : `${input.pending} changes wait`} for the indexer`
      : `the index holds no row for ${input.image}: POST /api/v1/registries/${registry.id}/sync repairs it`), facts;
  add('index', true, `the selector offers it (index rows: ${offeredBy.join(', ')})`);

  if (ref.tag) {
    const t = tags.find((x) => x.tag === ref.tag);
    if (!t || t.state !== 'present') return add('tag', false, t ? `tag ${ref.tag} was deleted` : `tag ${ref.tag} is not present (present: ${present.slice(0, 10).map((x) => x.tag).join(', ')})`), facts;
    if (ref.digest && t.digest !== ref.digest) return add('tag', false, `tag ${ref.tag} points at ${t.digest}, not ${ref.digest}`), facts;
    add('tag', true, `tag ${ref.tag} → ${t.digest}`);
  } else if (ref.digest) {
    const on = present.filter((t) => t.digest === ref.digest).map((t) => t.tag);
    if (!on.length) return add('tag', false, `no present tag points at ${ref.digest} (untagged manifests are not offered)`), facts;
    add('tag', true, `${ref.digest} is tagged ${on.join(', ')}`);
  }
  return facts;
};

/** Whether the namespace's pull secret can pull from the space: a public Harbor project, W's robot, or a Docker Registry's pull credentials. */
const pullFact = async (deps: Deps, registry: Registry | undefined, space: Space | undefined, workspaceId: string | null, bound: string[], image: string): Promise<ExplainFact | null> => {
  if (!registry || !space) return null;
  const fact = (holds: boolean, statement: string): ExplainFact => ({ link: 'pull', holds, statement });
  const owner = registry.ownerWorkspaceId;
  if (owner && workspaceId !== owner) return fact(false, `no pull access: registry ${registry.id} is owned by workspace ${owner}, and its pull access goes to ${owner}'s namespaces only`);
  if (registry.kind === 'docker-registry')
    return registry.pullCredentialsRef && registry.pullCredentialsSetAt
      ? fact(true, `can pull ${image} with registry ${registry.id}'s pull credentials (set at ${registry.pullCredentialsSetAt})`)
      : fact(false, `registry ${registry.id} has no pull credentials: its pull secret entry is missing (PATCH the registry with pullCredentials), only anonymous pulls work`);
  if (space.visibility === 'public') return fact(true, `project ${space.name} is public: Harbor serves it to anonymous pulls`);
  // An owned registry's private projects go to its owner's robot (checked above), a platform one's to the bound workspaces'.
  if (!workspaceId || (!owner && !bound.includes(workspaceId))) return fact(false, `no pull access: project ${space.name} is private and not bound to ${workspaceId ?? 'the namespace’s workspace (none)'}`);
  const grant = await deps.store.pullGrants.get(registry.id, workspaceId);
  if (grant?.status === 'refused') return fact(false, `Harbor refused the robot of ${workspaceId}: ${grant.statusMessage ?? 'no reason given'}`);
  const robot = grant?.robot;
  if (robot?.projects.includes(space.name)) return fact(true, `can pull ${image} through robot ${robot.name} of ${workspaceId} (synced at ${grant?.syncedAt ?? robot.rotatedAt})`);
  if (grant?.status === 'failing') return fact(false, `robot of ${workspaceId} pending: Harbor did not answer (${grant.statusMessage ?? 'unavailable'}); retried`);
  return fact(false, robot ? `robot ${robot.name} of ${workspaceId} does not hold project ${space.name} yet: sync pending` : `robot of ${workspaceId} pending: not created yet`);
};

/**
 * What a workspace admin is told of an image their namespace may not select: exactly what they would be told of a
 * space that does not exist, so another workspace's private space, its bindings and its pending changes stay unseen.
 * `asOf` is the oldest pending change of all, a bound that names nothing.
 */
const notOffered = (base: Pick<Explanation, 'image' | 'reference' | 'namespace'>, registry: Registry, spaceName: string, workspaceId: string, asOf: string): Explanation => {
  const registryFact: ExplainFact = { link: 'registry', holds: true, statement: `host ${registry.host} → registry ${registry.id}` };
  const missing: ExplainFact = { link: 'space', holds: false, statement: `registry ${registry.id} offers no space ${spaceName} to workspace ${workspaceId}` };
  return { ...base, visible: false, facts: [registryFact, missing], missingLink: missing, pullAccess: null, offeredBy: [], asOf, pendingChanges: [] };
};

/**
 * Why an image is, or is not, offered to a namespace. Platform admins see the whole chain, private spaces of any
 * workspace included; the admin of the namespace's workspace sees it for what that workspace may select, and
 * `notOffered` for anything else. Answers the chain of facts of the rule (registry → space and visibility →
 * namespace → workspace → binding or ownership), then the repository's tags and the index row the selector reads,
 * stopping at the first missing link; see `freshness` for `asOf`.
 */
export const explainImage = async (cluster: string, namespace: string, image: string, caller: Caller, deps: Deps): Promise<Explanation> => {
  const ref = parseImageReference(image);
  const readAt = deps.clock();
  const [ns, registries] = await Promise.all([deps.store.tenancy.getNamespace(cluster, namespace), deps.store.registries.list()]);
  const platformAdmin = isPlatformAdmin(caller);
  if (!platformAdmin && (!ns?.workspaceId || !mayAdminWorkspace(caller, ns.workspaceId)))
    throw forbidden(`explaining needs the platform-admin role, or the admin role of namespace ${cluster}/${namespace}'s workspace`);
  const { space: spaceName, repository } = splitPath(ref.path);
  const candidates = registries.filter((r) => r.host === ref.host);
  const spaces = await Promise.all(candidates.map((r) => (SpaceName.safeParse(spaceName).success ? deps.store.spaces.getLive(r.id, spaceName) : undefined)));
  const found = candidates.findIndex((_, i) => spaces[i]);
  const registry = candidates[Math.max(found, 0)];
  const space = found >= 0 ? spaces[found] : undefined;
  const imageName = imageRef(ref.host, ref.path);

  const { asOf, pending, oldestOfAll } = await freshness(deps, readAt, registry?.id, space?.name, ref.path);
  const validPath = RepositoryName.safeParse(ref.path).success;
  const [bindings, tags, rows] = await Promise.all([
    registry && space ? deps.store.spaces.bindings(registry.id, space.name) : [],
    registry && space && validPath ? deps.store.catalog.tags(registry.id, ref.path) : [],
    Promise.all(audiencesOfNamespace(ns?.workspaceId).map(async (a) => ((await deps.store.index.get(a, imageName)) ? a : undefined))),
  ]);
  const offeredBy = rows.filter((a): a is string => !!a);
  const allBound = bindings.map((b) => b.workspaceId).sort();
  if (!platformAdmin && ns?.workspaceId) {
    const base = { image: imageName, reference: { ...(ref.tag ? { tag: ref.tag } : {}), ...(ref.digest ? { digest: ref.digest } : {}) }, namespace: `${cluster}/${namespace}` };
    const grant = { visibility: space?.visibility ?? 'private', boundWorkspaces: allBound, owner: registry?.ownerWorkspaceId };
    if (registry && (!space || !maySelect(grant, ns.workspaceId))) return notOffered(base, registry, spaceName, ns.workspaceId, oldestOfAll);
  }
  // A workspace admin is not told which other workspaces a space they may select is bound to.
  const bound = platformAdmin ? allBound : allBound.filter((w) => w === ns?.workspaceId);
  const facts = chain({
    ref,
    image: imageName,
    nsName: `${cluster}/${namespace}`,
    ns,
    registry,
    space,
    spaceName,
    repository,
    bound,
    tags,
    offeredBy,
    pending: pending.length,
  });
  const missingLink = facts.find((f) => !f.holds) ?? null;
  const pullAccess = await pullFact(deps, registry, space, ns?.workspaceId ?? null, bound, imageName);
  return {
    image: imageName,
    reference: { ...(ref.tag ? { tag: ref.tag } : {}), ...(ref.digest ? { digest: ref.digest } : {}) },
    namespace: `${cluster}/${namespace}`,
    visible: missingLink === null,
    facts,
    missingLink,
    pullAccess,
    offeredBy,
    asOf,
    pendingChanges: pending,
  };
};
