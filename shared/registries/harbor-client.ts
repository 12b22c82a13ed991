import * as z from 'zod';
import { defaultEgressPolicy, MAX_PAGES, requestRegistry, type EgressPolicy } from './egress.ts';
import {
  MAX_ROBOT_DURATION_DAYS,
  newRobotSecret,
  pullPermissions,
  ROBOT_NAME,
  type CreatedHarborRobot,
  type HarborRobot,
  type RobotSpec,
} from './harbor-robots.ts';
import { platformName, TagDetails, type ScanSummary } from '../domain/image-details.ts';
import { scanOfOverview } from '../webhooks/harbor-scan.ts';
import { RegistryCallError, sanitizeRegistryText } from './registry-error.ts';
import { followPages, kindOf, parseAnswer, reasonsOf, type RegistryHttpAnswer } from './registry-http.ts';

/** A Harbor project as this product needs it. */
export type HarborProject = { name: string; projectId: number; public: boolean };
/** `name` is Harbor's full name (`project/repo`); `repository` is the part inside the project, as `listArtifacts` takes it. */
export type HarborRepository = { name: string; repository: string };
/**
 * Times are ISO 8601 UTC; absent when Harbor's is not a valid time. An untagged artifact has no tags. `size`,
 * `platform` (`extra_attrs`), `children` (an index's `references`) and `scan` are there when Harbor sent them readable.
 */
export type HarborArtifact = {
  digest: string;
  pushTime?: string;
  tags: { name: string; pushTime?: string }[];
  size?: number;
  platform?: string;
  children?: { digest: string; platform?: string }[];
  scan?: ScanSummary;
};
export type HarborPayloadFormat = 'Default' | 'CloudEvents';
export type HarborWebhookTarget = { type: string; address: string; authHeader?: string; payloadFormat?: string };
export type HarborWebhookPolicy = { id: number; name: string; enabled: boolean; eventTypes: string[]; targets: HarborWebhookTarget[] };
export type NewHarborWebhookPolicy = {
  name: string;
  /** Where Harbor posts; Harbor drops any query string. */
  url: string;
  /** Sent verbatim as the `Authorization` header of every delivery. */
  authHeader: string;
  eventTypes: string[];
  payloadFormat?: HarborPayloadFormat;
};

export type HarborClientOptions = {
  /** Base URL of Harbor, e.g. `https://harbor.example.com`. */
  url: string;
  credentials?: { username: string; password: string };
  /** Per request; default 5000. */
  timeoutMs?: number;
  /** Items per page of list calls; Harbor allows 1-100, default 100. */
  pageSize?: number;
  /** Where calls may connect; default `defaultEgressPolicy()` (the environment's). */
  policy?: EgressPolicy;
  /** Pages one list call follows at most; default `MAX_PAGES`. */
  maxPages?: number;
};

const IsoTime = z.iso.datetime({ offset: true });
/** A time Harbor sent, as ISO 8601 UTC; `undefined` when it is not one (the artifact stays usable). */
const Time = z.unknown().transform((t) => {
  if (!IsoTime.safeParse(t).success || typeof t !== 'string') return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
});

/** Harbor answers `null` instead of `[]` in places (untagged artifacts, some empty lists). */
const listOf = <T extends z.ZodType>(item: T) => z.array(item).nullish().transform((items) => items ?? []);

const Project = z.object({
  project_id: z.number().int(),
  name: z.string(),
  metadata: z.object({ public: z.string().optional() }).nullish(),
});

const Repository = z.object({ name: z.string() });

/** A field that only annotates the artifact: when it is not what the contract says, it is left out, never fatal. */
const optional = <T extends z.ZodType>(schema: T) => z.unknown().optional().transform((v) => schema.safeParse(v).data as z.infer<T> | undefined);
const Platform = z.object({ os: z.unknown().optional(), architecture: z.unknown().optional(), variant: z.unknown().optional() });
const Reference = z.object({ child_digest: z.string().max(200), platform: Platform.nullish() });

const Artifact = z.object({
  digest: z.string(),
  push_time: Time,
  tags: listOf(z.object({ name: z.string(), push_time: Time })),
  size: optional(TagDetails.shape.size.unwrap()),
  extra_attrs: optional(Platform),
  references: optional(z.array(Reference).max(1000)),
  scan_overview: z.unknown().optional(),
});

/** The scan report types `scan_overview` may hold, in Harbor's order of preference (its swagger's default). */
const ACCEPT_VULNERABILITIES = {
  'X-Accept-Vulnerabilities': 'application/vnd.security.vulnerability.report; version=1.1, application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0',
};

const toArtifact = (a: z.infer<typeof Artifact>): HarborArtifact => {
  const platform = platformName(a.extra_attrs);
  const scan = scanOfOverview(a.scan_overview);
  return {
    digest: a.digest,
    pushTime: a.push_time,
    tags: a.tags.map((t) => ({ name: t.name, pushTime: t.push_time })),
    ...(a.size === undefined ? {} : { size: a.size }),
    ...(platform ? { platform } : {}),
    ...(a.references?.length ? { children: a.references.map((r) => ({ digest: r.child_digest, ...(platformName(r.platform) ? { platform: platformName(r.platform) } : {}) })) } : {}),
    ...(scan ? { scan } : {}),
  };
};

const WebhookPolicy = z.object({
  id: z.number().int(),
  name: z.string(),
  enabled: z.boolean().optional(),
  event_types: listOf(z.string()),
  targets: listOf(
    z.object({
      type: z.string(),
      address: z.string(),
      auth_header: z.string().optional(),
      payload_format: z.string().optional(),
    }),
  ),
});

const Robot = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().nullish(),
  level: z.string().nullish(),
  duration: z.number().int().nullish(),
  disable: z.boolean().nullish(),
  expires_at: z.number().int().nullish(),
  creation_time: Time,
  permissions: listOf(
    z.object({
      kind: z.string(),
      namespace: z.string(),
      access: listOf(z.object({ resource: z.string(), action: z.string(), effect: z.string().nullish() })),
    }),
  ),
});

const RobotCreated = z.object({ id: z.number().int(), name: z.string(), secret: z.string().min(1), expires_at: z.number().int().nullish() });

// Harbor leaves `secret` out (or empty) when it took the one the request gave.
const RobotSec = z.object({ secret: z.string().nullish() });

/** Most projects one robot is asked to hold: bounds the request a workspace's bindings can make. */
export const MAX_ROBOT_PROJECTS = 1000;
const MAX_DESCRIPTION = 1024;

/** Only an authenticated caller gets the protected fields; wrong basic-auth credentials are served as anonymous. */
const SystemInfo = z.object({ registry_url: z.string().nullish() });

/** The body Harbor's `POST/PUT .../webhook/policies` takes for `policy`: enabled, one HTTP target. */
export const webhookPolicyBody = (policy: NewHarborWebhookPolicy) => ({
  name: policy.name,
  // Harbor stores an omitted `enabled` as false.
  enabled: true,
  event_types: policy.eventTypes,
  targets: [
    {
      type: 'http',
      address: policy.url,
      auth_header: policy.authHeader,
      skip_cert_verify: false,
      payload_format: policy.payloadFormat ?? 'Default',
    },
  ],
});

/** Why Harbor would refuse `spec` (or this service should not send it); `undefined` when it may be sent. */
const robotSpecProblem = (spec: RobotSpec): string | undefined => {
  if (spec.name.length > 255 || !ROBOT_NAME.test(spec.name)) return 'a robot name is lower case letters, digits and . _ - between them';
  if (spec.description.length > MAX_DESCRIPTION) return `a robot description has at most ${MAX_DESCRIPTION} characters`;
  const days = spec.durationDays;
  if (days !== -1 && !(Number.isInteger(days) && days >= 1 && days <= MAX_ROBOT_DURATION_DAYS)) return `a robot duration is -1 or 1-${MAX_ROBOT_DURATION_DAYS} days`;
  if (spec.projects.length === 0) return 'a robot needs at least one project (delete it instead)';
  if (spec.projects.length > MAX_ROBOT_PROJECTS) return `a robot holds at most ${MAX_ROBOT_PROJECTS} projects`;
  if (spec.projects.some((p) => p.length === 0 || p.length > 255 || p === '*')) return 'a robot project is a project name';
  return undefined;
};

const checkRobotSpec = (spec: RobotSpec) => {
  const problem = robotSpecProblem(spec);
  if (problem) throw new RegistryCallError('refused', `robot not sent to Harbor: ${problem}`);
};

const checkRobotId = (id: number) => {
  if (!Number.isSafeInteger(id) || id < 1) throw new RegistryCallError('refused', 'a robot id is a positive whole number');
};

const toRobot = (r: z.infer<typeof Robot>): HarborRobot => ({
  id: r.id,
  name: r.name,
  level: r.level ?? '',
  disabled: r.disable ?? false,
  ...(r.description == null ? {} : { description: r.description }),
  ...(r.expires_at == null ? {} : { expiresAt: r.expires_at }),
  ...(r.duration == null ? {} : { duration: r.duration }),
  ...(r.creation_time === undefined ? {} : { creationTime: r.creation_time }),
  permissions: r.permissions.map((p) => ({
    kind: p.kind,
    namespace: p.namespace,
    access: p.access.map((a) => ({ resource: a.resource, action: a.action, ...(a.effect ? { effect: a.effect } : {}) })),
  })),
});

/** A robot's name without Harbor's prefix (`robot$` by default, configurable): the name it was created with. */
const shortNameOf = (name: string) => name.slice(name.indexOf('$') + 1);

/**
 * Creates a client for Harbor's API v2.0. Every call goes through `requestRegistry` (the egress policy, bounded
 * answers, no redirect followed) and throws `RegistryCallError` on failure.
 */
export const createHarborClient = (opts: HarborClientOptions) => {
  const base = new URL(opts.url.replace(/\/+$/, ''));
  const api = `${base.href.replace(/\/+$/, '')}/api/v2.0`;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const pageSize = Math.min(Math.max(opts.pageSize ?? 100, 1), 100);
  const egress = opts.policy ?? defaultEgressPolicy();
  const maxPages = opts.maxPages ?? MAX_PAGES;
  const authorization = opts.credentials
    ? `Basic ${Buffer.from(`${opts.credentials.username}:${opts.credentials.password}`).toString('base64')}`
    : undefined;
  const byName = { 'X-Is-Resource-Name': 'true' };
  const seg = encodeURIComponent;
  // Harbor wants a repository name encoded twice (a/b -> a%252Fb); names have no other reserved characters.
  const repoSeg = (repository: string) => encodeURIComponent(encodeURIComponent(repository));

  type Call = { body?: unknown; headers?: Record<string, string>; anonymous?: boolean };

  const exchange = async (method: string, url: string, call: Call = {}): Promise<RegistryHttpAnswer> => {
    const target = new URL(url);
    const what = `${method} ${target.pathname}`;
    const res = await requestRegistry({
      label: 'Harbor',
      method,
      url: target,
      timeoutMs,
      policy: egress,
      headers: {
        accept: 'application/json',
        ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(authorization && !call.anonymous ? { authorization } : {}),
        ...call.headers,
      },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
    });
    // Never followed: a redirect would replay the credentials elsewhere or turn a write into a GET.
    if (res.status >= 300 && res.status < 400) {
      const location = sanitizeRegistryText(res.headers.get('location') ?? '?');
      throw new RegistryCallError('unavailable', `Harbor redirected ${what} to ${location}: register the final URL`, res.status);
    }
    if (res.status < 200 || res.status >= 300) {
      const kind = kindOf(res.status);
      const reasons = reasonsOf(res.text, res.statusText);
      throw new RegistryCallError(kind, `Harbor ${kind === 'unavailable' ? 'unavailable' : 'refused'}: ${res.status} ${reasons}`, res.status);
    }
    return { what, status: res.status, headers: res.headers, text: res.text };
  };

  const parse = <T extends z.ZodType>(answer: Pick<RegistryHttpAnswer, 'what' | 'status' | 'text'>, schema: T, opts?: { details?: boolean }) =>
    parseAnswer('Harbor', answer, schema, opts);

  /** Every item of a Harbor list from page 1 (`Link` paging, at most `maxPages` pages). */
  const listAll = async <T extends z.ZodType>(path: string, item: T, query: Record<string, string> = {}, headers?: Record<string, string>) => {
    const first = new URL(`${api}${path}`);
    for (const [k, v] of Object.entries({ ...query, page: '1', page_size: String(pageSize) })) first.searchParams.set(k, v);
    return followPages<z.infer<T>>({
      label: 'Harbor',
      base,
      first,
      maxPages,
      get: (url) => exchange('GET', url.href, { headers }),
      items: (answer) => parse(answer, listOf(item)),
    });
  };

  const readArtifacts = async (project: string, repository: string): Promise<{ artifacts: HarborArtifact[]; unreadable: string[] }> => {
    const path = `/projects/${seg(project)}/repositories/${repoSeg(repository)}/artifacts`;
    const artifacts: HarborArtifact[] = [];
    const unreadable: string[] = [];
    for (const [i, raw] of (await listAll(path, z.unknown(), { with_tag: 'true', with_scan_overview: 'true' }, ACCEPT_VULNERABILITIES)).entries()) {
      const parsed = Artifact.safeParse(raw);
      if (!parsed.success) {
        unreadable.push(sanitizeRegistryText(`artifact ${i + 1} of ${project}/${repository} is not what Harbor's API promises: ${z.prettifyError(parsed.error)}`));
        continue;
      }
      artifacts.push(toArtifact(parsed.data));
    }
    return { artifacts, unreadable };
  };

  const toProject = (p: z.infer<typeof Project>): HarborProject => ({
    name: p.name,
    projectId: p.project_id,
    // Anything but Harbor's "true" counts as private: offering a private image widely is the worst outcome.
    public: p.metadata?.public === 'true',
  });

  return {
    /** Resolves when Harbor's API answers; sends no credentials. */
    async ping(): Promise<void> {
      await exchange('GET', `${api}/ping`, { anonymous: true });
    },

    /** Harbor's clock (its `Date` header, second resolution) as ms since epoch; `undefined` when it sends none. */
    async serverTime(): Promise<number | undefined> {
      const date = Date.parse((await exchange('GET', `${api}/ping`, { anonymous: true })).headers.get('date') ?? '');
      return Number.isFinite(date) ? date : undefined;
    },

    /**
     * Proves the credentials work. Harbor serves wrong basic-auth credentials as an anonymous caller (200 with
     * public data), so this reads `systeminfo`, whose protected fields only an authenticated caller gets.
     * Resolves at once when the client has no credentials.
     */
    async checkCredentials(): Promise<void> {
      if (!authorization) return;
      const answer = await exchange('GET', `${api}/systeminfo`);
      if (parse(answer, SystemInfo).registry_url == null)
        throw new RegistryCallError('unauthorized', 'Harbor refused the credentials: it answered as to an anonymous caller', answer.status);
    },

    /** Creates the project; `conflict` when it exists. */
    async createProject(name: string, isPublic: boolean): Promise<void> {
      await exchange('POST', `${api}/projects`, { body: { project_name: name, metadata: { public: String(isPublic) } } });
    },

    async setProjectPublic(name: string, isPublic: boolean): Promise<void> {
      await exchange('PUT', `${api}/projects/${seg(name)}`, { headers: byName, body: { metadata: { public: String(isPublic) } } });
    },

    /** `refused` (412) while the project still has repositories. */
    async deleteProject(name: string): Promise<void> {
      await exchange('DELETE', `${api}/projects/${seg(name)}`, { headers: byName });
    },

    /** `undefined` when Harbor says 404. Older Harbors answer 403 for an unknown name, which stays `refused`. */
    async getProject(name: string): Promise<HarborProject | undefined> {
      try {
        return toProject(parse(await exchange('GET', `${api}/projects/${seg(name)}`, { headers: byName }), Project));
      } catch (error) {
        if (error instanceof RegistryCallError && error.kind === 'not-found') return undefined;
        throw error;
      }
    },

    /** Every project the credentials can see (anonymous: the public ones). */
    async listProjects(): Promise<HarborProject[]> {
      return (await listAll('/projects', Project)).map(toProject);
    },

    async listRepositories(project: string): Promise<HarborRepository[]> {
      const prefix = `${project}/`;
      return (await listAll(`/projects/${seg(project)}/repositories`, Repository)).map((r) => ({
        name: r.name,
        repository: r.name.startsWith(prefix) ? r.name.slice(prefix.length) : r.name,
      }));
    },

    /**
     * The artifacts of `repository` (the name inside the project: `team/app`, not `project/team/app`), and a
     * reason for each artifact Harbor answered that cannot be read (no digest, a tag without a name): with one of
     * those the list is incomplete, so what it lacks must not be taken as deleted.
     */
    readArtifacts,

    /** Like `readArtifacts`, but an artifact that cannot be read fails the call (`unavailable`). */
    async listArtifacts(project: string, repository: string): Promise<HarborArtifact[]> {
      const { artifacts, unreadable } = await readArtifacts(project, repository);
      if (unreadable[0] !== undefined) throw new RegistryCallError('unavailable', `Harbor answered an unexpected body: ${unreadable[0]}`);
      return artifacts;
    },

    async listWebhookPolicies(project: string): Promise<HarborWebhookPolicy[]> {
      return (await listAll(`/projects/${seg(project)}/webhook/policies`, WebhookPolicy, {}, byName)).map((p) => ({
        id: p.id,
        name: p.name,
        enabled: p.enabled ?? false,
        eventTypes: p.event_types,
        targets: p.targets.map((t) => ({ type: t.type, address: t.address, authHeader: t.auth_header, payloadFormat: t.payload_format })),
      }));
    },

    /** Creates an enabled HTTP policy; `id` comes from Harbor's `Location` header. `conflict` when the name is taken. */
    async createWebhookPolicy(project: string, policy: NewHarborWebhookPolicy): Promise<{ id: number | undefined }> {
      const answer = await exchange('POST', `${api}/projects/${seg(project)}/webhook/policies`, {
        headers: byName,
        body: webhookPolicyBody(policy),
      });
      const id = answer.headers.get('location')?.match(/\/(\d{1,15})$/)?.[1];
      return { id: id === undefined ? undefined : Number(id) };
    },

    /** Replaces policy `id` with an enabled HTTP policy (Harbor's PUT takes the whole policy). */
    async updateWebhookPolicy(project: string, id: number, policy: NewHarborWebhookPolicy): Promise<void> {
      await exchange('PUT', `${api}/projects/${seg(project)}/webhook/policies/${id}`, { headers: byName, body: webhookPolicyBody(policy) });
    },
    /**
     * The system robots whose name (without Harbor's `robot$`) starts with `namePrefix`, every page. Harbor's
     * fuzzy `name=~` query narrows the list; the prefix and the level are checked here as well.
     */
    async listRobots(namePrefix: string): Promise<HarborRobot[]> {
      if (namePrefix.length > 255 || !/^[a-z0-9._-]*$/.test(namePrefix))
        throw new RegistryCallError('refused', 'a robot name prefix is lower case letters, digits and . _ -');
      const q = namePrefix ? `Level=system,name=~${namePrefix}` : 'Level=system';
      return (await listAll('/robots', Robot, { q }))
        .map(toRobot)
        .filter((r) => r.level === 'system' && shortNameOf(r.name).startsWith(namePrefix));
    },

    /** `undefined` when Harbor says 404. */
    async getRobot(id: number): Promise<HarborRobot | undefined> {
      checkRobotId(id);
      try {
        return toRobot(parse(await exchange('GET', `${api}/robots/${id}`), Robot));
      } catch (error) {
        if (error instanceof RegistryCallError && error.kind === 'not-found') return undefined;
        throw error;
      }
    },

    /**
     * Creates an enabled system robot, pull-only on `spec.projects`; Harbor makes its secret and shows it only in
     * this answer. `conflict` when the name is taken; `refused` (403) when the credentials may not create robots.
     */
    async createRobot(spec: RobotSpec): Promise<CreatedHarborRobot> {
      checkRobotSpec(spec);
      const answer = await exchange('POST', `${api}/robots`, {
        body: {
          name: spec.name,
          description: spec.description,
          level: 'system',
          disable: false,
          duration: spec.durationDays,
          permissions: pullPermissions(spec.projects),
        },
      });
      // The body holds the secret: no parse report in the message.
      const created = parse(answer, RobotCreated, { details: false });
      return { id: created.id, name: created.name, secret: created.secret, ...(created.expires_at == null ? {} : { expiresAt: created.expires_at }) };
    },

    /**
     * Replaces `robot` (as read: Harbor refuses another name or level) with an enabled, pull-only robot on
     * `spec.projects`, `spec.description` and `duration: spec.durationDays` (see `RobotSpec`). `spec.name` is not sent.
     */
    async updateRobot(robot: HarborRobot, spec: RobotSpec): Promise<void> {
      checkRobotId(robot.id);
      checkRobotSpec(spec);
      await exchange('PUT', `${api}/robots/${robot.id}`, {
        body: {
          id: robot.id,
          name: robot.name,
          level: robot.level,
          description: spec.description,
          duration: spec.durationDays,
          disable: false,
          permissions: pullPermissions(spec.projects),
        },
      });
    },

    /**
     * Gives robot `id` a new secret: a strong random one made here (32 characters, upper and lower case letters and
     * digits). Returns the secret in force: Harbor's answer's when it sends one, else ours.
     */
    async refreshRobotSecret(id: number): Promise<string> {
      checkRobotId(id);
      const secret = newRobotSecret();
      const answer = await exchange('PATCH', `${api}/robots/${id}`, { body: { secret } });
      const given = answer.text.trim() === '' ? undefined : parse(answer, RobotSec, { details: false }).secret;
      return given || secret;
    },

    /** `not-found` when Harbor has no robot `id`. */
    async deleteRobot(id: number): Promise<void> {
      checkRobotId(id);
      await exchange('DELETE', `${api}/robots/${id}`);
    },
  };
};

/** The client `createHarborClient` returns. */
export type HarborClient = ReturnType<typeof createHarborClient>;
