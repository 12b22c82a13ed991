import * as z from 'zod';
import { defaultEgressPolicy, MAX_PAGES, requestRegistry, type EgressPolicy } from './egress.ts';
import { RegistryCallError, sanitizeRegistryText, type RegistryCallErrorKind } from './registry-error.ts';

export { RegistryCallError, sanitizeRegistryText, type RegistryCallErrorKind } from './registry-error.ts';

/** Parses a registry's JSON answer; a body that is not what the API promises counts as the registry being unavailable. */
export const parseAnswer = <T extends z.ZodType>(label: string, answer: { what: string; status: number; text: string }, schema: T): z.infer<T> => {
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch (error) {
    throw new RegistryCallError('unavailable', `${label} answered ${answer.what} with a body that is not JSON`, answer.status, { cause: error });
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const message = `${label} answered ${answer.what} with an unexpected body: ${z.prettifyError(parsed.error)}`;
  throw new RegistryCallError('unavailable', message, answer.status, { cause: parsed.error });
};

/** A Harbor project as this product needs it. */
export type HarborProject = { name: string; projectId: number; public: boolean };
/** `name` is Harbor's full name (`project/repo`); `repository` is the part inside the project, as `listArtifacts` takes it. */
export type HarborRepository = { name: string; repository: string };
/** Times are ISO 8601 UTC; absent when Harbor's is not a valid time. An untagged artifact has no tags. */
export type HarborArtifact = { digest: string; pushTime?: string; tags: { name: string; pushTime?: string }[] };
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

const HarborErrors = z.object({ errors: z.array(z.object({ code: z.string(), message: z.string() })) });

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

const Artifact = z.object({
  digest: z.string(),
  push_time: Time,
  tags: listOf(z.object({ name: z.string(), push_time: Time })),
});

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

/** Only an authenticated caller gets the protected fields; wrong basic-auth credentials are served as anonymous. */
const SystemInfo = z.object({ registry_url: z.string().nullish() });

const kindOf = (status: number): RegistryCallErrorKind => {
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status >= 500 || status === 429) return 'unavailable';
  return 'refused';
};

const reasonsOf = (text: string, fallback: string) => {
  try {
    const parsed = HarborErrors.safeParse(JSON.parse(text));
    if (parsed.success && parsed.data.errors.length > 0)
      return sanitizeRegistryText(parsed.data.errors.map((e) => `${e.code}: ${e.message}`).join('; '));
  } catch {
    // not JSON (a proxy's HTML page, an empty body): the status says enough
  }
  return sanitizeRegistryText(fallback);
};

const nextLink = (header: string | null) => header?.match(/<([^>]*)>\s*;\s*rel="?next"?/)?.[1];

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

  const exchange = async (method: string, url: string, call: Call = {}) => {
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
      const reasons = reasonsOf(res.text, res.statusText || 'no reason given');
      throw new RegistryCallError(kind, `Harbor ${kind === 'unavailable' ? 'unavailable' : 'refused'}: ${res.status} ${reasons}`, res.status);
    }
    return { what, status: res.status, headers: res.headers, text: res.text };
  };

  const parse = <T extends z.ZodType>(answer: { what: string; status: number; text: string }, schema: T) => parseAnswer('Harbor', answer, schema);

  /** Follows Harbor's `Link: <...>; rel="next"` from page 1 to the end, at most `maxPages` pages. */
  const listAll = async <T extends z.ZodType>(path: string, item: T, query: Record<string, string> = {}, headers?: Record<string, string>) => {
    const first = new URL(`${api}${path}`);
    for (const [k, v] of Object.entries({ ...query, page: '1', page_size: String(pageSize) })) first.searchParams.set(k, v);
    const items: z.infer<T>[] = [];
    const seen = new Set<string>();
    for (let url: URL | undefined = first; url; ) {
      seen.add(url.href);
      const answer = await exchange('GET', url.href, { headers });
      const page = parse(answer, listOf(item));
      items.push(...page);
      const link = nextLink(answer.headers.get('link'));
      if (!link || page.length === 0) break;
      let next: URL;
      try {
        next = new URL(link, base);
      } catch {
        throw new RegistryCallError('unavailable', `Harbor answered ${answer.what} with a next link that is not a URL: ${sanitizeRegistryText(link)}`, answer.status);
      }
      // Never send the credentials to another origin, never loop.
      if (next.origin !== base.origin || seen.has(next.href))
        throw new RegistryCallError('unavailable', `Harbor answered ${answer.what} with an unusable next link: ${sanitizeRegistryText(link)}`, answer.status);
      // Distinct links forever (page=2, 3, ...) are no loop `seen` catches.
      if (seen.size >= maxPages) throw new RegistryCallError('unavailable', `Harbor answered ${answer.what} with more than ${maxPages} pages`, answer.status);
      url = next;
    }
    return items;
  };

  const readArtifacts = async (project: string, repository: string): Promise<{ artifacts: HarborArtifact[]; unreadable: string[] }> => {
    const path = `/projects/${seg(project)}/repositories/${repoSeg(repository)}/artifacts`;
    const artifacts: HarborArtifact[] = [];
    const unreadable: string[] = [];
    for (const [i, raw] of (await listAll(path, z.unknown(), { with_tag: 'true' })).entries()) {
      const parsed = Artifact.safeParse(raw);
      if (!parsed.success) {
        unreadable.push(sanitizeRegistryText(`artifact ${i + 1} of ${project}/${repository} is not what Harbor's API promises: ${z.prettifyError(parsed.error)}`));
        continue;
      }
      const a = parsed.data;
      artifacts.push({ digest: a.digest, pushTime: a.push_time, tags: a.tags.map((t) => ({ name: t.name, pushTime: t.push_time })) });
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
  };
};

/** The client `createHarborClient` returns. */
export type HarborClient = ReturnType<typeof createHarborClient>;
