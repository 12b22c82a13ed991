import { createHash } from 'node:crypto';
import { PullCredentials, type PullGrant, type Registry } from '../domain/model.ts';
import type { Deps } from '../deps.ts';
import type { Caller } from '../domain/caller.ts';
import { conflict } from '../errors.ts';
import { entryProblem, PULL_SECRET_NAME, pullSecret, pullSecretLabels, renderJson, renderYaml, type PullEntry } from '../kubernetes/pull-secret.ts';
import { logger } from '../logger.ts';
import { readableNamespace } from './tenancy.ts';

/**
 * Where a namespace's pull credentials come from: its workspace's robot on every Harbor registry where the workspace
 * has a bound private space, or that it owns and that has a private project (public projects pull anonymously); the
 * read-only pull credentials of every platform Docker Registry (all its spaces are public) and of the Docker
 * Registries its workspace owns. Never an integration's own credentials, never another workspace's registry's.
 */
type Source =
  | { kind: 'robot'; registry: Registry; grant: PullGrant & { robot: NonNullable<PullGrant['robot']> } }
  | { kind: 'pull-credentials'; registry: Registry };

const sourcesOf = async (deps: Deps, workspaceId: string | null): Promise<Source[]> => {
  const [registries, grants] = await Promise.all([deps.store.registries.list(), workspaceId ? deps.store.pullGrants.ofWorkspace(workspaceId) : []]);
  const live = new Map(registries.map((r) => [r.id, r]));
  const sources: Source[] = [];
  for (const registry of registries)
    if (registry.kind === 'docker-registry' && registry.pullCredentialsRef && (registry.ownerWorkspaceId ?? workspaceId) === workspaceId)
      sources.push({ kind: 'pull-credentials', registry });
  for (const grant of grants) {
    const registry = live.get(grant.registryId);
    const robot = grant.robot;
    // Fail closed: a robot Harbor has not yet shrunk to the truth (an unbind or make-private it refused or missed) is
    // not handed out until it has; one still growing (a bind not yet synced) is.
    const current = robot && robot.projects.length > 0 && robot.projects.every((p) => grant.projects.includes(p));
    if (registry?.kind === 'harbor' && (registry.ownerWorkspaceId ?? workspaceId) === workspaceId && robot && current) sources.push({ kind: 'robot', registry, grant: { ...grant, robot } });
  }
  return sources.sort((a, b) => (a.registry.host < b.registry.host ? -1 : 1));
};

/** A strong ETag over everything the answer holds, computed without opening any secret (a version stands for each). */
const etagOf = (namespace: string, workspaceId: string | null, format: string, sources: Source[]) => {
  const parts = sources.map((s) =>
    s.kind === 'robot' ? ['robot', s.registry.host, s.grant.robot.name, s.grant.robot.secretVersion, s.grant.robot.secretRef] : ['pull', s.registry.host, s.registry.pullCredentialsSetAt, s.registry.pullCredentialsRef],
  );
  return `"${createHash('sha256').update(JSON.stringify([namespace, workspaceId, format, PULL_SECRET_NAME, parts])).digest('base64url')}"`;
};

/** `If-None-Match` holds `etag` (a list, `*`, or a weak form of it). */
const matches = (ifNoneMatch: string | undefined, etag: string) =>
  !!ifNoneMatch && ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });

const entryOf = async (deps: Deps, source: Source): Promise<PullEntry | undefined> => {
  if (source.kind === 'robot') return { host: source.registry.host, username: source.grant.robot.name, password: await deps.secrets.open(source.grant.robot.secretRef) };
  if (!source.registry.pullCredentialsRef) return undefined;
  const pull = PullCredentials.parse(JSON.parse(await deps.secrets.open(source.registry.pullCredentialsRef)));
  return { host: source.registry.host, ...pull };
};

export type PullSecretFormat = 'json' | 'yaml';

/** `Accept` asks for YAML (`application/yaml`, `application/x-yaml`, `text/yaml`); JSON otherwise. */
export const formatOf = (accept: string | undefined): PullSecretFormat => (/\b(application|text)\/(x-)?yaml\b/i.test(accept ?? '') ? 'yaml' : 'json');

/**
 * The namespace's `kubernetes.io/dockerconfigjson` Secret (`platform-registry-pull`), as `kubectl create secret
 * docker-registry` writes it. Readers get only the namespaces of their workspaces (403 otherwise); an unbound or
 * unknown namespace (admins) gets the entries every namespace gets. `notModified` when `ifNoneMatch` holds the ETag:
 * then no secret is opened.
 */
export const getPullSecret = async (
  cluster: string,
  namespace: string,
  request: { caller: Caller; ifNoneMatch?: string; format: PullSecretFormat },
  deps: Deps,
): Promise<{ etag: string; notModified: true } | { etag: string; notModified: false; text: string; contentType: string }> => {
  const ns = await readableNamespace(deps, request.caller, cluster, namespace);
  const workspaceId = ns?.workspaceId ?? null;
  const sources = await sourcesOf(deps, workspaceId);
  const etag = etagOf(`${cluster}/${namespace}`, workspaceId, request.format, sources);
  if (matches(request.ifNoneMatch, etag)) return { etag, notModified: true };
  const opened = await Promise.all(sources.map((s) => entryOf(deps, s)));
  // One entry that cannot be written (a host kubectl would not take) must not cost the namespace the others.
  const entries = opened.filter((e, i): e is PullEntry => {
    const problem = e && entryProblem(e, i);
    if (problem) logger.error('pull secret entry left out', { registryId: sources[i]?.registry.id, problem });
    return !!e && !problem;
  });
  // The namespace may have moved while the secrets were opened: never hand its old workspace's new secret out.
  const now = await deps.store.tenancy.getNamespace(cluster, namespace);
  if ((now?.workspaceId ?? null) !== workspaceId) throw conflict(`namespace ${cluster}/${namespace} moved while its pull secret was made; retry`);
  const secret = pullSecret(namespace, entries, {
    labels: pullSecretLabels(workspaceId),
    annotations: { 'platform-registry/cluster': cluster },
  });
  return request.format === 'yaml'
    ? { etag, notModified: false, text: renderYaml(secret), contentType: 'application/yaml' }
    : { etag, notModified: false, text: renderJson(secret), contentType: 'application/json' };
};
