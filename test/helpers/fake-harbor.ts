import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/**
 * A fake Harbor built from `../shared/fixtures/harbor/swagger-subset.yaml` (API v2.0) and Harbor's handlers:
 * the same paths, status codes, `{"errors":[{code,message}]}` bodies, paging headers and auth rules.
 * One user, a system admin. Like Harbor, wrong basic-auth credentials are served as an anonymous caller
 * (never a 401 by themselves): anonymous callers read public projects and get 401 everywhere else.
 * Like a fresh Harbor, it starts with the public project `library`.
 */

const API = '/api/v2.0';
const ZERO_TIME = '0001-01-01T00:00:00.000Z';
const PROJECT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** `src/pkg/notification/notification.go` at c50c7dd. */
export const HARBOR_EVENT_TYPES = [
  'PUSH_ARTIFACT',
  'PULL_ARTIFACT',
  'DELETE_ARTIFACT',
  'SCANNING_COMPLETED',
  'SCANNING_FAILED',
  'SCANNING_STOPPED',
  'QUOTA_EXCEED',
  'QUOTA_WARNING',
  'REPLICATION',
  'TAG_RETENTION',
] as const;
const NOTIFY_TYPES = ['http', 'slack'];
const PAYLOAD_FORMATS = ['Default', 'CloudEvents'];

export type FakeProject = { projectId: number; name: string; metadata: Record<string, string>; creationTime: string; updateTime: string };
export type FakeRepository = { id: number; projectId: number; name: string; creationTime: string; updateTime: string };
export type FakeTag = { id: number; name: string; pushTime: string };
/** A child of an index artifact, as Harbor's `Reference` has it. */
export type FakeReference = { childDigest: string; platform?: { os: string; architecture: string; variant?: string } };
/**
 * An artifact as Harbor keeps it. `extraAttrs` default to a linux/amd64 image's; `references` make it an index;
 * `scanOverview` is Harbor's `ScanOverview` (mime type → `NativeReportSummary`), sent with `with_scan_overview=true`.
 */
export type FakeArtifact = {
  id: number;
  repositoryId: number;
  digest: string;
  size: number;
  pushTime: string;
  tags: FakeTag[];
  extraAttrs?: Record<string, unknown> | null;
  references?: FakeReference[];
  scanOverview?: Record<string, unknown>;
};
export type FakeWebhookTarget = { type: string; address: string; auth_header?: string; skip_cert_verify: boolean; payload_format?: string };
export type FakeWebhookPolicy = {
  id: number;
  projectId: number;
  name: string;
  description: string;
  targets: FakeWebhookTarget[];
  eventTypes: string[];
  enabled: boolean;
  creationTime: string;
  updateTime: string;
};
/** One request as the fake saw it; `user` is unset for anonymous callers (wrong credentials included). */
/** A robot permission as Harbor stores it: a scope (a project by id, every project, or the system) and its accesses. */
export type FakeRobotAccess = { resource: string; action: string; effect?: string };
export type FakeRobotPermission = { kind: 'project'; projectId: number | '*'; access: FakeRobotAccess[] } | { kind: 'system'; access: FakeRobotAccess[] };
/**
 * A robot as Harbor's tables hold it: `name` without the `robot$` prefix (a project robot's is `project+name`),
 * the secret only as a salted hash, `expiresAt` in unix seconds (-1 never).
 */
export type FakeRobot = {
  id: number;
  name: string;
  description: string;
  level: 'system' | 'project';
  projectId: number;
  duration: number;
  expiresAt: number;
  disabled: boolean;
  salt: string;
  secretHash: string;
  permissions: FakeRobotPermission[];
  creationTime: string;
  updateTime: string;
};
/** A robot as `GET /robots/{id}` shows it (what `robots()` and the hand edits speak). */
export type FakeRobotView = {
  id: number;
  name: string;
  level: string;
  description: string;
  duration: number;
  expires_at: number;
  disable: boolean;
  editable: boolean;
  creation_time: string;
  update_time: string;
  permissions: { kind: string; namespace: string; access: FakeRobotAccess[] }[];
};
/** Harbor's `robot_name_prefix` default. */
export const ROBOT_PREFIX = 'robot$';

export type FakeHarborRequest = { method: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders; user?: string; body?: unknown };

/** A deterministic `sha256:` digest for tests. */
export const fakeDigest = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

const iso = (t: Date | string) => new Date(t).toISOString();

const createState = () => {
  const ids = { project: 0, repository: 0, artifact: 0, tag: 0, policy: 0, robot: 0 };
  const projects = new Map<number, FakeProject>();
  const repositories = new Map<number, FakeRepository>();
  const artifacts = new Map<number, FakeArtifact>();
  const policies = new Map<number, FakeWebhookPolicy>();
  const robots = new Map<number, FakeRobot>();

  const projectByName = (name: string) => [...projects.values()].find((p) => p.name === name);
  const projectOrThrow = (name: string) => {
    const project = projectByName(name);
    if (!project) throw new Error(`fake Harbor: no project ${name}`);
    return project;
  };
  const repositoryByName = (fullName: string) => [...repositories.values()].find((r) => r.name === fullName);
  const repositoriesOf = (projectId: number) =>
    [...repositories.values()].filter((r) => r.projectId === projectId).sort((a, b) => a.name.localeCompare(b.name));
  const artifactsOf = (repositoryId: number) =>
    [...artifacts.values()].filter((a) => a.repositoryId === repositoryId).sort((a, b) => b.pushTime.localeCompare(a.pushTime) || b.id - a.id);

  return {
    projectByName,
    /** Harbor's rule: a number is an id unless `X-Is-Resource-Name: true`. */
    findProject: (nameOrId: string, isResourceName: boolean) =>
      !isResourceName && /^\d+$/.test(nameOrId) ? projects.get(Number(nameOrId)) : projectByName(nameOrId),
    repositoryByName,
    repositoriesOf,
    artifactsOf,
    policiesOf: (projectId: number) => [...policies.values()].filter((p) => p.projectId === projectId).sort((a, b) => a.id - b.id),
    policy: (id: number) => policies.get(id),
    projects: () => [...projects.values()].sort((a, b) => a.name.localeCompare(b.name)),

    /** Seeds a project as Harbor would store it (no name check: seed only what Harbor allows). */
    addProject(name: string, options: { public?: boolean; at?: Date | string } = {}) {
      if (projectByName(name)) throw new Error(`fake Harbor: project ${name} exists`);
      const at = iso(options.at ?? new Date());
      const project: FakeProject = {
        projectId: ++ids.project,
        name,
        metadata: { public: String(options.public ?? false) },
        creationTime: at,
        updateTime: at,
      };
      projects.set(project.projectId, project);
      return project;
    },

    deleteProject(projectId: number) {
      projects.delete(projectId);
      for (const p of policies.values()) if (p.projectId === projectId) policies.delete(p.id);
    },

    /**
     * Seeds a push: `repository` is the name inside the project (`team/app`). A tag moves to this digest, as a
     * re-push does; pushing a known digest adds tags to it. The project must exist.
     */
    addArtifact(project: string, repository: string, digest: string, tags: string[] = [], pushTime: Date | string = new Date()) {
      const p = projectOrThrow(project);
      const at = iso(pushTime);
      const fullName = `${project}/${repository}`;
      let repo = repositoryByName(fullName);
      if (!repo) {
        repo = { id: ++ids.repository, projectId: p.projectId, name: fullName, creationTime: at, updateTime: at };
        repositories.set(repo.id, repo);
      }
      repo.updateTime = at;
      const repoArtifacts = artifactsOf(repo.id);
      for (const other of repoArtifacts) other.tags = other.tags.filter((t) => !tags.includes(t.name));
      let artifact = repoArtifacts.find((a) => a.digest === digest);
      if (!artifact) {
        artifact = { id: ++ids.artifact, repositoryId: repo.id, digest, size: 1024, pushTime: at, tags: [] };
        artifacts.set(artifact.id, artifact);
      }
      artifact.pushTime = at;
      artifact.tags.push(...tags.map((name) => ({ id: ++ids.tag, name, pushTime: at })));
      return artifact;
    },

    /** Deletes an artifact with all its tags, as Harbor's DELETE_ARTIFACT does; the repository stays. */
    deleteArtifact(project: string, repository: string, digest: string) {
      const repo = repositoryByName(`${project}/${repository}`);
      const artifact = repo && artifactsOf(repo.id).find((a) => a.digest === digest);
      if (artifact) artifacts.delete(artifact.id);
      return artifact !== undefined;
    },

    deleteRepository(repositoryId: number) {
      repositories.delete(repositoryId);
      for (const a of artifacts.values()) if (a.repositoryId === repositoryId) artifacts.delete(a.id);
    },

    addPolicy(policy: Omit<FakeWebhookPolicy, 'id'>) {
      const stored = { ...policy, id: ++ids.policy };
      policies.set(stored.id, stored);
      return stored;
    },
    deletePolicy: (id: number) => policies.delete(id),

    /** Every robot, by id; its name as stored (no `robot$`). */
    robots: () => [...robots.values()].sort((a, b) => a.id - b.id),
    robot: (id: number) => robots.get(id),
    robotByName: (name: string, projectId = 0) => [...robots.values()].find((r) => r.name === name && r.projectId === projectId),
    addRobot(robot: Omit<FakeRobot, 'id'>) {
      const stored = { ...robot, id: ++ids.robot };
      robots.set(stored.id, stored);
      return stored;
    },
    deleteRobot: (id: number) => robots.delete(id),
  };
};

/** What tests can seed and inspect. */
export type FakeHarborState = ReturnType<typeof createState>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
const unauthorized = () => new HttpError(401, 'UNAUTHORIZED', 'unauthorized');
const badRequest = (message: string) => new HttpError(400, 'BAD_REQUEST', message);
const notFound = (message: string) => new HttpError(404, 'NOT_FOUND', message);
const forbidden = () => new HttpError(403, 'FORBIDDEN', 'forbidden');
const unprocessable = (message: string) => new HttpError(422, 'UNPROCESSABLE_ENTITY', `validation failure list:\n${message}`);

const ProjectReq = z.object({
  project_name: z.string().optional(),
  public: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string().nullable()).nullish(),
});
const PolicyReq = z.object({
  name: z.string().optional(),
  description: z.string().optional(),
  enabled: z.boolean().optional(),
  event_types: z.array(z.string()).nullish(),
  targets: z
    .array(
      z.object({
        type: z.string().optional(),
        address: z.string().optional(),
        auth_header: z.string().optional(),
        skip_cert_verify: z.boolean().optional(),
        payload_format: z.string().optional(),
      }),
    )
    .nullish(),
});

const AccessReq = z.object({ resource: z.string().optional(), action: z.string().optional(), effect: z.string().optional() });
const RobotPermissionReq = z.object({ kind: z.string().optional(), namespace: z.string().optional(), access: z.array(AccessReq).nullish() });
/** `RobotCreate` and, for `PUT`, `Robot` (its read-only fields ignored as Harbor does). */
const RobotReq = z.object({
  name: z.string().optional(),
  description: z.string().optional(),
  level: z.string().optional(),
  disable: z.boolean().optional(),
  duration: z.number().int().nullish(),
  permissions: z.array(RobotPermissionReq).nullish(),
});
const RobotSecReq = z.object({ secret: z.string().optional() });

/** `rbac.PoliciesMap` at c50c7dd: what a robot permission may grant, per kind (no `*` action). */
const ROBOT_POLICIES: Record<'system' | 'project', readonly string[]> = {
  system: [
    'audit-log:list', 'project:list', 'project:create', 'registry:read', 'registry:create', 'registry:delete', 'registry:list', 'registry:update',
    'replication:read', 'replication:create', 'replication:list', 'garbage-collection:read', 'garbage-collection:create', 'garbage-collection:list',
    'scan-all:read', 'scan-all:create', 'scanner:read', 'scanner:list', 'label:read', 'label:create', 'label:delete', 'label:update', 'catalog:read',
    'quota:read', 'quota:list', 'user:read', 'user:list', 'user-group:read', 'user-group:list', 'robot:read', 'robot:list',
  ],
  project: [
    'log:list', 'project:read', 'project:delete', 'project:update', 'metadata:read', 'metadata:create', 'metadata:delete', 'metadata:list', 'metadata:update',
    'repository:read', 'repository:update', 'repository:delete', 'repository:list', 'repository:pull', 'repository:push',
    'artifact:read', 'artifact:create', 'artifact:list', 'artifact:delete', 'scan:create', 'scan:read', 'scan:stop', 'tag:create', 'tag:list', 'tag:delete',
    'accessory:list', 'artifact-addition:read', 'artifact-label:create', 'artifact-label:delete', 'scanner:create', 'scanner:read',
    'notification-policy:read', 'notification-policy:create', 'notification-policy:delete', 'notification-policy:list', 'notification-policy:update',
    'tag-retention:read', 'tag-retention:create', 'tag-retention:delete', 'tag-retention:list', 'tag-retention:update',
    'label:read', 'label:create', 'label:delete', 'label:list', 'label:update', 'quota:read',
  ],
};
const MAX_INT32 = 2_147_483_647;
const ROBOT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const DAY_MS = 86_400_000;
const unixNow = () => Math.floor(Date.now() / 1000);
const hashRobotSecret = (salt: string, secret: string) => createHash('sha256').update(`${salt}:${secret}`).digest('hex');
/** `robot.IsValidSec`: 8-128 characters with a lower case letter, an upper case letter and a digit. */
const isValidRobotSecret = (secret: string) => secret.length >= 8 && secret.length <= 128 && /[a-z]/.test(secret) && /[A-Z]/.test(secret) && /\d/.test(secret);
/** `utils.GenerateRandomString` retried until it passes `IsValidSec`, as `CreateSec` does. */
const randomRobotSecret = () => {
  for (;;) {
    const secret = randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 32);
    if (isValidRobotSecret(secret)) return secret;
  }
};

type Ctx = {
  method: string;
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  user?: string;
  body?: unknown;
  res: ServerResponse;
};

type Handler = (ctx: Ctx, params: Record<string, string>) => void;

const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const sendEmpty = (res: ServerResponse, status: number, headers: Record<string, string> = {}) => {
  res.writeHead(status, headers);
  res.end();
};

const bodyOf = <T extends z.ZodType>(ctx: Ctx, schema: T): z.infer<T> => {
  const parsed = schema.safeParse(ctx.body);
  if (!parsed.success) throw unprocessable(z.prettifyError(parsed.error));
  return parsed.data;
};

const readPaging = (query: URLSearchParams) => {
  const int = (name: string, fallback: number) => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    if (!/^-?\d+$/.test(raw)) throw unprocessable(`${name} in query must be of type int64: "${raw}"`);
    return Number(raw);
  };
  const page = int('page', 1);
  const pageSize = int('page_size', 10);
  if (pageSize > 100) throw unprocessable('page_size in query should be less than or equal to 100');
  return { page: Math.max(page, 1), pageSize: pageSize < 1 ? 10 : pageSize };
};

/** Harbor's `BaseAPI.Links`: the request path, query keys sorted (Go's `Encode`), then unescaped; joined by " , ". */
const linkHeader = (rawPath: string, query: URLSearchParams, total: number, page: number, pageSize: number) => {
  const link = (to: number, rel: string) => {
    const q = new URLSearchParams(query);
    q.set('page', String(to));
    q.set('page_size', String(pageSize));
    const pairs = [...q.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
    return `<${rawPath}?${pairs.join('&')}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1 && (page - 1) * pageSize < total) links.push(link(page - 1, 'prev'));
  if (pageSize * page < total) links.push(link(page + 1, 'next'));
  return links.join(' , ');
};

const sendPage = <T>(ctx: Ctx, items: T[], toJson: (item: T) => unknown) => {
  const { page, pageSize } = readPaging(ctx.query);
  const slice = items.slice((page - 1) * pageSize, page * pageSize);
  const link = linkHeader(ctx.rawPath, ctx.query, items.length, page, pageSize);
  sendJson(ctx.res, 200, slice.map(toJson), { 'x-total-count': String(items.length), ...(link ? { link } : {}) });
};

/**
 * Starts a fake Harbor on 127.0.0.1 (a free port). Default credentials `admin` / `Harbor12345`.
 * `setDown(true)` answers 503, `setDown(true, 'reset')` drops connections; `setDelay(ms)` holds every answer.
 * Robots (`/robots`, system and project level) follow Harbor's robot handler and controller: see `robots()`,
 * `robotCanPull`, the hand edits `editRobot` / `removeRobot`, `setRobotAccess` and `failRobots`.
 */
export const startFakeHarbor = async (opts: { username?: string; password?: string } = {}) => {
  const username = opts.username ?? 'admin';
  const password = opts.password ?? 'Harbor12345';
  const state = createState();
  state.addProject('library', { public: true });
  const requests: FakeHarborRequest[] = [];
  let down: false | '503' | 'reset' = false;
  let delayMs = 0;
  let robotAccess: 'manage' | 'read' | 'none' = 'manage';
  let robotFailures = 0;
  let origin = '';

  const userOf = (headers: IncomingHttpHeaders) => {
    const match = /^Basic\s+(.+)$/i.exec(headers.authorization ?? '');
    if (!match?.[1]) return undefined;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && decoded.slice(0, colon) === username && decoded.slice(colon + 1) === password ? username : undefined;
  };

  const isResourceName = (ctx: Ctx) => String(ctx.headers['x-is-resource-name']).toLowerCase() === 'true';

  /** `RequireProjectAccess`: anonymous callers may only read public projects; unknown → 401 for them, 404 for the admin. */
  const projectFor = (ctx: Ctx, nameOrId: string, access: 'read' | 'write', byNameOnly = false) => {
    const project = state.findProject(nameOrId, byNameOnly || isResourceName(ctx));
    if (!ctx.user) {
      if (access === 'read' && project?.metadata.public === 'true') return project;
      throw unauthorized();
    }
    if (!project) throw notFound(`project ${nameOrId} not found`);
    return project;
  };

  const repositoryFor = (ctx: Ctx, params: Record<string, string>, access: 'read' | 'write') => {
    const project = projectFor(ctx, params.project ?? '', access, true);
    const fullName = `${project.name}/${params.repository ?? ''}`;
    const repo = state.repositoryByName(fullName);
    if (!repo) throw notFound(`repository ${fullName} not found`);
    return { project, repo };
  };

  const projectJson = (ctx: Ctx, p: FakeProject) => ({
    project_id: p.projectId,
    owner_id: 1,
    name: p.name,
    registry_id: 0,
    creation_time: p.creationTime,
    update_time: p.updateTime,
    deleted: false,
    owner_name: 'admin',
    togglable: ctx.user !== undefined,
    current_user_role_id: ctx.user ? 1 : 0,
    current_user_role_ids: ctx.user ? [1] : null,
    repo_count: state.repositoriesOf(p.projectId).length,
    metadata: { ...p.metadata },
    cve_allowlist: { id: 0, project_id: p.projectId, items: [], creation_time: ZERO_TIME, update_time: ZERO_TIME },
  });

  const repositoryJson = (r: FakeRepository) => ({
    id: r.id,
    project_id: r.projectId,
    name: r.name,
    description: '',
    artifact_count: state.artifactsOf(r.id).length,
    pull_count: 0,
    creation_time: r.creationTime,
    update_time: r.updateTime,
  });

  const artifactIdOf = (repositoryId: number, digest: string) => state.artifactsOf(repositoryId).find((x) => x.digest === digest)?.id ?? 0;
  const artifactJson = (r: FakeRepository, a: FakeArtifact, withTag: boolean, withScan = false) => ({
    id: a.id,
    type: 'IMAGE',
    media_type: a.references ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.config.v1+json',
    manifest_media_type: a.references ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json',
    project_id: r.projectId,
    repository_id: r.id,
    repository_name: r.name,
    digest: a.digest,
    size: a.size,
    icon: '',
    push_time: a.pushTime,
    pull_time: ZERO_TIME,
    extra_attrs: a.extraAttrs === undefined ? { architecture: 'amd64', os: 'linux' } : a.extraAttrs,
    annotations: null,
    references: a.references
      ? a.references.map((ref) => ({ parent_id: a.id, child_id: artifactIdOf(r.id, ref.childDigest), child_digest: ref.childDigest, platform: ref.platform ?? null, annotations: null, urls: null }))
      : null,
    ...(withScan && a.scanOverview ? { scan_overview: a.scanOverview } : {}),
    // Harbor sends null, not [], for an untagged artifact.
    tags:
      withTag && a.tags.length > 0
        ? a.tags.map((t) => ({ id: t.id, repository_id: r.id, artifact_id: a.id, name: t.name, push_time: t.pushTime, pull_time: ZERO_TIME, immutable: false }))
        : null,
    addition_links: {},
    labels: null,
    accessories: null,
  });

  const policyJson = (p: FakeWebhookPolicy) => ({
    id: p.id,
    name: p.name,
    description: p.description,
    project_id: p.projectId,
    targets: p.targets,
    event_types: p.eventTypes,
    creator: 'admin',
    creation_time: p.creationTime,
    update_time: p.updateTime,
    enabled: p.enabled,
  });

  /** `validateEventTypes` + `validateTargets` of Harbor's notification policy handler. */
  const validPolicy = (body: z.infer<typeof PolicyReq>) => {
    const name = body.name ?? '';
    const eventTypes = body.event_types ?? [];
    if (eventTypes.length === 0) throw badRequest('empty event type');
    for (const t of eventTypes) if (!HARBOR_EVENT_TYPES.some((s) => s === t)) throw badRequest(`unsupported event type ${t}`);
    const targets = body.targets ?? [];
    if (targets.length === 0) throw badRequest(`empty notification target with policy ${name}`);
    const stored = targets.map((t): FakeWebhookTarget => {
      const trimmed = (t.address ?? '').trim();
      const address = /^https?:\/\//.test(trimmed) ? trimmed : `http://${trimmed}`;
      let url: URL;
      try {
        url = new URL(address);
      } catch {
        throw badRequest(`invalid endpoint: ${t.address ?? ''}`);
      }
      const path = /^[a-z]+:\/\/[^/?#]*([^?#]*)/i.exec(address)?.[1] ?? '';
      if (!NOTIFY_TYPES.includes(t.type ?? '')) throw badRequest(`unsupported target type ${t.type ?? ''} with policy ${name}`);
      if (t.payload_format && !PAYLOAD_FORMATS.includes(t.payload_format)) throw badRequest(`unsupported payload format ${t.payload_format}`);
      return {
        type: t.type ?? '',
        // Harbor keeps scheme, host and path only (SSRF guard, goharbor/harbor#3755).
        address: `${url.protocol}//${url.host}${path}`,
        ...(t.auth_header === undefined ? {} : { auth_header: t.auth_header }),
        skip_cert_verify: t.skip_cert_verify ?? false,
        ...(t.payload_format === undefined ? {} : { payload_format: t.payload_format }),
      };
    });
    return { name, description: body.description ?? '', enabled: body.enabled ?? false, eventTypes, targets: stored };
  };

  /**
   * `RequireSystemAccess(ctx, action, ResourceRobot)` for the admin; `setRobotAccess` plays credentials without it
   * (an integrated Harbor reached with a project robot): 403 as Harbor answers them.
   */
  const requireRobotAccess = (ctx: Ctx, access: 'read' | 'write') => {
    if (!ctx.user) throw unauthorized();
    if (robotAccess === 'none' || (robotAccess === 'read' && access === 'write')) throw forbidden();
  };

  /** A project permission's namespace as Harbor's `toScope` resolves it: unknown projects are 404. */
  const scopeOf = (kind: string, namespace: string, access: FakeRobotAccess[]): FakeRobotPermission => {
    if (kind === 'system') {
      if (namespace !== '/') throw badRequest('unknown namespace');
      return { kind: 'system', access };
    }
    if (namespace === '*') return { kind: 'project', projectId: '*', access };
    const project = state.findProject(namespace, false);
    if (!project) throw notFound(`project ${namespace} not found`);
    return { kind: 'project', projectId: project.projectId, access };
  };

  /** The robot handler's `validate`: duration, level, permissions and each access against `rbac.PoliciesMap`. */
  const validRobotBody = (body: z.infer<typeof RobotReq>, duration: number) => {
    if (!(duration === -1 || (duration > 0 && duration < MAX_INT32)))
      throw badRequest(`bad request error duration input: ${duration}, duration must be either -1(Never) or a positive integer`);
    const level: FakeRobot['level'] | undefined = body.level === 'system' ? 'system' : body.level === 'project' ? 'project' : undefined;
    if (!level) throw badRequest(`bad request error level input: ${body.level ?? ''}`);
    const permissions = body.permissions ?? [];
    if (permissions.length === 0) throw badRequest('bad request empty permission');
    if (permissions.some((p) => (p.access ?? []).length === 0)) throw badRequest('bad request empty access');
    if (level === 'project' && permissions.length > 1) throw badRequest('bad request permission');
    for (const p of permissions) {
      const kind = p.kind ?? '';
      if (kind !== 'system' && kind !== 'project') throw badRequest(`bad request permission level: ${kind}`);
      for (const a of p.access ?? [])
        if (!ROBOT_POLICIES[kind].includes(`${a.resource ?? ''}:${a.action ?? ''}`)) throw badRequest(`bad request permission: ${a.resource ?? ''}:${a.action ?? ''}`);
    }
    const resolve = () =>
      permissions.map((p) =>
        scopeOf(
          p.kind ?? '',
          p.namespace ?? '',
          (p.access ?? []).map((a) => ({ resource: a.resource ?? '', action: a.action ?? '', ...(a.effect ? { effect: a.effect } : {}) })),
        ),
      );
    return { level, permissions, resolve };
  };

  const robotView = (r: FakeRobot): FakeRobotView => ({
    id: r.id,
    name: `${ROBOT_PREFIX}${r.name}`,
    level: r.level,
    description: r.description,
    duration: r.duration,
    expires_at: r.expiresAt,
    disable: r.disabled,
    editable: true,
    creation_time: r.creationTime,
    update_time: r.updateTime,
    // `populatePermissions`: a scope whose project was deleted is left out.
    permissions: r.permissions.flatMap((p) => {
      if (p.kind === 'system') return [{ kind: 'system', namespace: '/', access: p.access.map((a) => ({ ...a })) }];
      const namespace = p.projectId === '*' ? '*' : state.findProject(String(p.projectId), false)?.name;
      return namespace === undefined ? [] : [{ kind: 'project', namespace, access: p.access.map((a) => ({ ...a })) }];
    }),
  });

  const robotFor = (ctx: Ctx, params: Record<string, string>) => {
    if (!ctx.user) throw unauthorized();
    const raw = params.id ?? '';
    if (!/^\d{1,18}$/.test(raw)) throw unprocessable(`robot_id in path must be of type int64: "${raw}"`);
    const robot = state.robot(Number(raw));
    if (!robot) throw notFound(`robot ${raw} not found`);
    return robot;
  };

  /** `q.Build` of Harbor's list handlers: `k=v` exact, `k=~v` fuzzy, comma-separated. */
  const keywordsOf = (q: string | null) => {
    const keywords = new Map<string, { fuzzy: boolean; value: string }>();
    if (!q) return keywords;
    for (const param of q.split(',')) {
      const at = param.indexOf('=');
      const key = at < 0 ? '' : param.slice(0, at);
      const value = at < 0 ? '' : param.slice(at + 1);
      if (!key || !value) throw badRequest('the query string must contain "=" and the key/value cannot be empty');
      if (value.startsWith('~') && value.length < 2) throw badRequest(`invalid query string value: ${value}`);
      keywords.set(key, value.startsWith('~') ? { fuzzy: true, value: value.slice(1) } : { fuzzy: false, value });
    }
    return keywords;
  };

  const policyFor = (ctx: Ctx, params: Record<string, string>) => {
    const project = projectFor(ctx, params.project ?? '', 'write');
    const id = Number(params.id);
    const policy = state.policy(id);
    if (!policy || policy.projectId !== project.projectId)
      throw notFound(`resource not found: project id:${project.projectId}, webhook policy id: ${params.id} not found`);
    return { project, policy };
  };

  const routes: { method: string; path: string; handler: Handler }[] = [
    {
      method: 'GET',
      path: '/ping',
      handler: ({ res }) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('Pong');
      },
    },
    {
      method: 'GET',
      path: '/systeminfo',
      handler: (ctx) =>
        sendJson(ctx.res, 200, {
          auth_mode: 'db_auth',
          primary_auth_mode: false,
          self_registration: false,
          banner_message: '',
          ...(ctx.user === undefined
            ? {}
            : {
            current_time: new Date().toISOString(),
            registry_url: new URL(origin).host,
            external_url: origin,
            project_creation_restriction: 'everyone',
            has_ca_root: false,
            harbor_version: 'v2.14.0-fake',
            registry_storage_provider_name: 'filesystem',
            read_only: false,
            notification_enable: true,
              }),
        }),
    },
    {
      method: 'GET',
      path: '/projects',
      handler: (ctx) => {
        const publicParam = ctx.query.get('public');
        if (publicParam !== null && publicParam !== 'true' && publicParam !== 'false')
          throw unprocessable(`public in query must be of type boolean: "${publicParam}"`);
        const name = ctx.query.get('name');
        const items = state
          .projects()
          .filter((p) => ctx.user || p.metadata.public === 'true')
          .filter((p) => publicParam === null || p.metadata.public === publicParam)
          .filter((p) => !name || p.name.includes(name));
        sendPage(ctx, items, (p) => projectJson(ctx, p));
      },
    },
    {
      method: 'HEAD',
      path: '/projects',
      handler: (ctx) => {
        const name = ctx.query.get('project_name') ?? '';
        projectFor(ctx, name, 'read', true);
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: 'POST',
      path: '/projects',
      handler: (ctx) => {
        if (!ctx.user) throw unauthorized();
        const req = bodyOf(ctx, ProjectReq);
        const name = req.project_name ?? '';
        if (name.length > 255) throw unprocessable('project.project_name in body should be at most 255 chars long');
        const metadata: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.metadata ?? {})) if (v !== null) metadata[k] = v;
        if (!metadata.public && typeof req.public === 'boolean') metadata.public = String(req.public);
        metadata.public ||= 'false';
        if (metadata.public !== 'true' && metadata.public !== 'false')
          throw badRequest(`metadata.public should only be 'true' or 'false', but got: '${metadata.public}'`);
        if (name.length < 1) throw badRequest(`Project name ${name} is illegal in length. (greater than 255 or less than 1)`);
        if (!PROJECT_NAME.test(name)) throw badRequest('project name is not in lower case or contains illegal characters');
        if (state.projectByName(name)) throw new HttpError(409, 'CONFLICT', `The project named ${name} already exists`);
        const project = state.addProject(name, { public: metadata.public === 'true' });
        Object.assign(project.metadata, metadata);
        const byName = String(ctx.headers['x-resource-name-in-location']).toLowerCase() === 'true';
        sendEmpty(ctx.res, 201, { location: `${API}/projects/${byName ? name : project.projectId}` });
      },
    },
    { method: 'GET', path: '/projects/:project', handler: (ctx, p) => sendJson(ctx.res, 200, projectJson(ctx, projectFor(ctx, p.project ?? '', 'read'))) },
    {
      method: 'PUT',
      path: '/projects/:project',
      handler: (ctx, p) => {
        const project = projectFor(ctx, p.project ?? '', 'write');
        const req = bodyOf(ctx, ProjectReq);
        const metadata = req.metadata ?? {};
        if (metadata.public != null && metadata.public !== 'true' && metadata.public !== 'false')
          throw badRequest(`metadata.public should only be 'true' or 'false', but got: '${metadata.public}'`);
        for (const [k, v] of Object.entries(metadata)) if (v !== null) project.metadata[k] = v;
        project.updateTime = new Date().toISOString();
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: 'DELETE',
      path: '/projects/:project',
      handler: (ctx, p) => {
        const project = projectFor(ctx, p.project ?? '', 'write');
        if (state.repositoriesOf(project.projectId).length > 0)
          throw new HttpError(412, 'PRECONDITION', 'precondition failed: the project contains repositories, can not be deleted');
        state.deleteProject(project.projectId);
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: 'GET',
      path: '/projects/:project/repositories',
      handler: (ctx, p) => {
        const project = projectFor(ctx, p.project ?? '', 'read', true);
        sendPage(ctx, state.repositoriesOf(project.projectId), repositoryJson);
      },
    },
    { method: 'GET', path: '/projects/:project/repositories/:repository', handler: (ctx, p) => sendJson(ctx.res, 200, repositoryJson(repositoryFor(ctx, p, 'read').repo)) },
    {
      method: 'DELETE',
      path: '/projects/:project/repositories/:repository',
      handler: (ctx, p) => {
        state.deleteRepository(repositoryFor(ctx, p, 'write').repo.id);
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: 'GET',
      path: '/projects/:project/repositories/:repository/artifacts',
      handler: (ctx, p) => {
        const { repo } = repositoryFor(ctx, p, 'read');
        const withTag = ctx.query.get('with_tag') !== 'false';
        const withScan = ctx.query.get('with_scan_overview') === 'true';
        sendPage(ctx, state.artifactsOf(repo.id), (a) => artifactJson(repo, a, withTag, withScan));
      },
    },
    {
      method: 'GET',
      path: '/projects/:project/repositories/:repository/artifacts/:reference',
      handler: (ctx, p) => {
        const { repo } = repositoryFor(ctx, p, 'read');
        const ref = p.reference ?? '';
        const artifact = state.artifactsOf(repo.id).find((a) => a.digest === ref || a.tags.some((t) => t.name === ref));
        if (!artifact) throw notFound(`artifact ${repo.name}:${ref} not found`);
        sendJson(ctx.res, 200, artifactJson(repo, artifact, ctx.query.get('with_tag') !== 'false', ctx.query.get('with_scan_overview') === 'true'));
      },
    },
    {
      method: 'DELETE',
      path: '/projects/:project/repositories/:repository/artifacts/:reference',
      handler: (ctx, p) => {
        const { project, repo } = repositoryFor(ctx, p, 'write');
        const ref = p.reference ?? '';
        const artifact = state.artifactsOf(repo.id).find((a) => a.digest === ref || a.tags.some((t) => t.name === ref));
        if (!artifact) throw notFound(`artifact ${repo.name}:${ref} not found`);
        state.deleteArtifact(project.name, p.repository ?? '', artifact.digest);
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: 'GET',
      path: '/projects/:project/webhook/policies',
      handler: (ctx, p) => {
        const project = projectFor(ctx, p.project ?? '', 'write');
        sendPage(ctx, state.policiesOf(project.projectId), policyJson);
      },
    },
    {
      method: 'POST',
      path: '/projects/:project/webhook/policies',
      handler: (ctx, p) => {
        const project = projectFor(ctx, p.project ?? '', 'write');
        const valid = validPolicy(bodyOf(ctx, PolicyReq));
        if (state.policiesOf(project.projectId).some((x) => x.name === valid.name))
          throw new HttpError(409, 'CONFLICT', `notification policy named ${valid.name} already exists`);
        const now = new Date().toISOString();
        const policy = state.addPolicy({ ...valid, projectId: project.projectId, creationTime: now, updateTime: now });
        sendEmpty(ctx.res, 201, { location: `${decodeURIComponent(ctx.rawPath)}/${policy.id}` });
      },
    },
    { method: 'GET', path: '/projects/:project/webhook/policies/:id', handler: (ctx, p) => sendJson(ctx.res, 200, policyJson(policyFor(ctx, p).policy)) },
    {
      method: 'PUT',
      path: '/projects/:project/webhook/policies/:id',
      handler: (ctx, p) => {
        const { project, policy } = policyFor(ctx, p);
        const valid = validPolicy(bodyOf(ctx, PolicyReq));
        if (state.policiesOf(project.projectId).some((x) => x.name === valid.name && x.id !== policy.id))
          throw new HttpError(409, 'CONFLICT', `notification policy named ${valid.name} already exists`);
        Object.assign(policy, valid, { updateTime: new Date().toISOString() });
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: 'DELETE',
      path: '/projects/:project/webhook/policies/:id',
      handler: (ctx, p) => {
        state.deletePolicy(policyFor(ctx, p).policy.id);
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: 'GET',
      path: '/projects/:project/webhook/events',
      handler: (ctx, p) => {
        projectFor(ctx, p.project ?? '', 'write');
        sendJson(ctx.res, 200, {
          event_type: HARBOR_EVENT_TYPES,
          notify_type: NOTIFY_TYPES,
          payload_formats: [{ notify_type: 'http', formats: PAYLOAD_FORMATS }],
        });
      },
    },
    {
      method: 'GET',
      path: '/robots',
      handler: (ctx) => {
        if (!ctx.user) throw unauthorized();
        const keywords = keywordsOf(ctx.query.get('q'));
        const level = keywords.get('Level')?.value ?? 'system';
        if (level !== 'system' && level !== 'project') throw badRequest('bad request error level input');
        const projectId = level === 'project' ? keywords.get('ProjectID')?.value : '0';
        if (projectId === undefined) throw badRequest('must with project ID when to query project robots');
        if (!/^\d+$/.test(projectId)) throw badRequest('Project ID must be int type.');
        requireRobotAccess(ctx, 'read');
        const name = keywords.get('name');
        const items = state
          .robots()
          .filter((r) => r.projectId === Number(projectId))
          .filter((r) => !name || (name.fuzzy ? r.name.toLowerCase().includes(name.value.toLowerCase()) : r.name === name.value));
        sendPage(ctx, items, robotView);
      },
    },
    {
      method: 'POST',
      path: '/robots',
      handler: (ctx) => {
        const body = bodyOf(ctx, RobotReq);
        const name = body.name ?? '';
        if (!ROBOT_NAME.test(name)) throw badRequest('robot name is not in lower case or contains illegal characters');
        const duration = body.duration ?? 0;
        const valid = validRobotBody(body, duration);
        requireRobotAccess(ctx, 'write');
        const project = valid.level === 'project' ? state.findProject(valid.permissions[0]?.namespace ?? '', false) : undefined;
        if (valid.level === 'project' && !project) throw notFound(`project ${valid.permissions[0]?.namespace ?? ''} not found`);
        const stored = project ? `${project.name}+${name}` : name;
        if (state.robotByName(stored, project?.projectId ?? 0)) throw new HttpError(409, 'CONFLICT', `robot account ${stored} already exists`);
        const permissions = valid.resolve();
        const now = new Date();
        const secret = randomRobotSecret();
        const salt = randomBytes(8).toString('hex');
        const robot = state.addRobot({
          name: stored,
          description: body.description ?? '',
          level: valid.level,
          projectId: project?.projectId ?? 0,
          duration,
          expiresAt: duration === -1 ? -1 : Math.floor((now.getTime() + duration * DAY_MS) / 1000),
          disabled: false,
          salt,
          secretHash: hashRobotSecret(salt, secret),
          permissions,
          creationTime: now.toISOString(),
          updateTime: now.toISOString(),
        });
        sendJson(
          ctx.res,
          201,
          { id: robot.id, name: `${ROBOT_PREFIX}${robot.name}`, secret, creation_time: robot.creationTime, expires_at: robot.expiresAt },
          { location: `${ctx.rawPath.replace(/\/$/, '')}/${robot.id}` },
        );
      },
    },
    {
      method: 'GET',
      path: '/robots/:id',
      handler: (ctx, p) => {
        const robot = robotFor(ctx, p);
        requireRobotAccess(ctx, 'read');
        sendJson(ctx.res, 200, robotView(robot));
      },
    },
    {
      method: 'PUT',
      path: '/robots/:id',
      handler: (ctx, p) => {
        const robot = robotFor(ctx, p);
        const body = bodyOf(ctx, RobotReq);
        const duration = body.duration ?? robot.duration;
        const valid = validRobotBody(body, duration);
        requireRobotAccess(ctx, 'write');
        if (valid.level !== robot.level || body.name !== `${ROBOT_PREFIX}${robot.name}`) throw badRequest('cannot update the level or name of robot');
        const permissions = valid.resolve();
        if (duration !== robot.duration) {
          robot.duration = duration;
          // `expires_at = creation_time + duration days`, not from now.
          robot.expiresAt = duration === -1 ? -1 : Math.floor((Date.parse(robot.creationTime) + duration * DAY_MS) / 1000);
        }
        robot.description = body.description ?? '';
        robot.disabled = body.disable ?? false;
        robot.permissions = permissions;
        robot.updateTime = new Date().toISOString();
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: 'PATCH',
      path: '/robots/:id',
      handler: (ctx, p) => {
        const robot = robotFor(ctx, p);
        requireRobotAccess(ctx, 'write');
        const given = bodyOf(ctx, RobotSecReq).secret ?? '';
        if (given && !isValidRobotSecret(given))
          throw badRequest('the secret must be 8-128, inclusively, characters long with at least 1 uppercase letter, 1 lowercase letter and 1 number');
        const secret = given || randomRobotSecret();
        robot.secretHash = hashRobotSecret(robot.salt, secret);
        robot.updateTime = new Date().toISOString();
        // Harbor echoes only a secret it made (`omitempty` drops the empty one).
        sendJson(ctx.res, 200, given ? {} : { secret });
      },
    },
    {
      method: 'DELETE',
      path: '/robots/:id',
      handler: (ctx, p) => {
        const robot = robotFor(ctx, p);
        requireRobotAccess(ctx, 'write');
        state.deleteRobot(robot.id);
        sendEmpty(ctx.res, 200);
      },
    },
  ];

  /** Go decodes the path once before routing, so `a%2Fb` becomes two segments; Harbor decodes repository names again. */
  const route = (ctx: Ctx) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(ctx.rawPath);
    } catch {
      throw badRequest(`invalid URL escape in ${ctx.rawPath}`);
    }
    const segments = decoded.startsWith(`${API}/`) ? decoded.slice(API.length + 1).split('/') : undefined;
    const matches = routes.flatMap((r) => {
      const pattern = r.path.slice(1).split('/');
      if (!segments || pattern.length !== segments.length) return [];
      const params: Record<string, string> = {};
      for (const [i, part] of pattern.entries()) {
        const segment = segments[i] ?? '';
        if (part.startsWith(':')) {
          if (segment === '') return [];
          params[part.slice(1)] = segment;
        } else if (part !== segment) return [];
      }
      return [{ route: r, params }];
    });
    if (matches.length === 0) throw notFound(`path ${decoded} was not found`);
    const match = matches.find((m) => m.route.method === ctx.method);
    if (!match)
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `method ${ctx.method} is not allowed, but [${matches.map((m) => m.route.method).join(',')}] are`);
    if (match.params.repository !== undefined) {
      try {
        match.params.repository = decodeURIComponent(match.params.repository);
      } catch {
        throw badRequest(`invalid repository name ${match.params.repository}`);
      }
    }
    match.route.handler(ctx, match.params);
  };

  const readBody = async (req: IncomingMessage): Promise<{ body?: unknown; invalid: boolean }> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const text = Buffer.concat(chunks).toString('utf8');
    if (text === '') return { invalid: false };
    try {
      const body: unknown = JSON.parse(text);
      return { body, invalid: false };
    } catch {
      return { body: text, invalid: true };
    }
  };

  const server = createServer(async (req, res) => {
    const requestId = typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : randomUUID();
    res.setHeader('x-request-id', requestId);
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const { body, invalid } = await readBody(req);
    const user = userOf(req.headers);
    requests.push({ method: req.method ?? 'GET', path: rawPath, query, headers: req.headers, user, body });
    if (down === 'reset') return void req.socket.destroy();
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (res.destroyed) return;
    try {
      if (down === '503') throw new HttpError(503, 'UNKNOWN', 'service unavailable');
      if (robotFailures > 0 && (rawPath === `${API}/robots` || rawPath.startsWith(`${API}/robots/`))) {
        robotFailures--;
        throw new HttpError(503, 'UNKNOWN', 'service unavailable');
      }
      if (invalid) throw badRequest('the request body is not valid JSON');
      route({ method: req.method ?? 'GET', rawPath, query, headers: req.headers, user, body, res });
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(500, 'UNKNOWN', `unknown: ${String(error)}`);
      if (!res.headersSent) sendJson(res, e.status, { errors: [{ code: e.code, message: e.message }] });
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake Harbor: no TCP address');
  origin = `http://127.0.0.1:${(address satisfies AddressInfo).port}`;

  return {
    /** Base URL, as a registry is registered with. */
    url: origin,
    credentials: { username, password },
    state,
    /** Every request received, oldest first. */
    requests,
    /** `true`: answer 503 with Harbor's error body; `'reset'`: drop the connection without an answer. */
    setDown(value: boolean | 'reset') {
      down = value === true ? '503' : value;
    },
    setDelay(ms: number) {
      delayMs = ms;
    },
    /**
     * What the credentials may do with robots: `manage` (the admin, default); `read` lists and reads but writes
     * answer 403 (credentials that cannot create robots); `none` answers 403 to every robot call.
     */
    setRobotAccess(access: 'manage' | 'read' | 'none') {
      robotAccess = access;
    },
    /** The next `count` calls to `/robots` answer 503 (Harbor down), whatever they are. */
    failRobots(count: number) {
      robotFailures = count;
    },
    /** Every robot as Harbor shows it (`GET /robots/{id}`), oldest first; never a secret. */
    robots: (): FakeRobotView[] => state.robots().map(robotView),
    /**
     * Whether a `docker pull` with these credentials may pull from `project`: anyone for a public project; else
     * an enabled, unexpired robot (full name, current secret) with `repository:pull` on it or on every project.
     */
    robotCanPull(username: string, password: string, project: string): boolean {
      const p = state.projectByName(project);
      if (!p) return false;
      if (p.metadata.public === 'true') return true;
      const robot = state.robots().find((r) => `${ROBOT_PREFIX}${r.name}` === username);
      if (!robot || robot.disabled) return false;
      if (robot.expiresAt !== -1 && robot.expiresAt <= unixNow()) return false;
      if (hashRobotSecret(robot.salt, password) !== robot.secretHash) return false;
      return robot.permissions.some(
        (perm) =>
          perm.kind === 'project' &&
          (perm.projectId === p.projectId || perm.projectId === '*') &&
          perm.access.some((a) => a.resource === 'repository' && a.action === 'pull' && (a.effect ?? 'allow') !== 'deny'),
      );
    },
    /**
     * Edits robot `id` by hand (Harbor's UI or another admin), past the API's checks: `permissions` by project
     * name (`*` every project), an expiry, a creation time, disabling it.
     */
    editRobot(
      id: number,
      change: {
        permissions?: { kind: 'project' | 'system'; namespace: string; access: FakeRobotAccess[] }[];
        disabled?: boolean;
        description?: string;
        duration?: number;
        expiresAt?: number;
        creationTime?: Date | string;
      },
    ) {
      const robot = state.robot(id);
      if (!robot) throw new Error(`fake Harbor: no robot ${id}`);
      if (change.permissions)
        robot.permissions = change.permissions.map((p): FakeRobotPermission => {
          if (p.kind === 'system') return { kind: 'system', access: p.access };
          if (p.namespace === '*') return { kind: 'project', projectId: '*', access: p.access };
          const project = state.projectByName(p.namespace);
          if (!project) throw new Error(`fake Harbor: no project ${p.namespace}`);
          return { kind: 'project', projectId: project.projectId, access: p.access };
        });
      if (change.disabled !== undefined) robot.disabled = change.disabled;
      if (change.description !== undefined) robot.description = change.description;
      if (change.duration !== undefined) robot.duration = change.duration;
      if (change.expiresAt !== undefined) robot.expiresAt = change.expiresAt;
      if (change.creationTime !== undefined) robot.creationTime = iso(change.creationTime);
      robot.updateTime = new Date().toISOString();
    },
    /** Deletes robot `id` by hand; `false` when there is none. */
    removeRobot: (id: number) => state.deleteRobot(id),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
};

/** A running fake Harbor. */
export type FakeHarbor = Awaited<ReturnType<typeof startFakeHarbor>>;
