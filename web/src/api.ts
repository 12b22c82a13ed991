import * as z from 'zod/mini';

/** The JSON API as the page reads it (only the fields it uses); every answer is validated before use. */
const Visibility = z.enum(['public', 'private']);
const Count = z.number();
const Scan = z.object({
  severity: z.enum(['none', 'unknown', 'low', 'medium', 'high', 'critical']),
  total: Count,
  fixable: Count,
  counts: z.object({ critical: Count, high: Count, medium: Count, low: Count, unknown: Count }),
  scanner: z.optional(z.string()),
  completedAt: z.optional(z.string()),
});
export type Scan = z.infer<typeof Scan>;
/** What the selector knows of a tag's digest (all optional: absent means not known). */
const TagDetails = { size: z.optional(z.number()), platforms: z.optional(z.array(z.string())), scan: z.optional(Scan) };
export const Image = z.object({
  image: z.string(),
  registryId: z.string(),
  space: z.string(),
  repository: z.string(),
  visibility: Visibility,
  grantedBy: z.array(z.string()),
  tagCount: z.number(),
  latestTag: z.object({ tag: z.string(), digest: z.string(), pushedAt: z.string(), ...TagDetails }),
});
export type Image = z.infer<typeof Image>;
const ImagePage = z.object({ items: z.array(Image), nextCursor: z.nullable(z.string()) });
export type ImagePage = z.infer<typeof ImagePage>;
const Tag = z.object({ tag: z.string(), digest: z.string(), pushedAt: z.string(), ...TagDetails });
export type Tag = z.infer<typeof Tag>;
const TagList = z.object({ items: z.array(Tag) });
const NamespaceRef = z.object({ cluster: z.string(), namespace: z.string(), workspaceId: z.nullable(z.string()) });
export type NamespaceRef = z.infer<typeof NamespaceRef>;
const MyNamespaces = z.object({ admin: z.boolean(), workspaces: z.array(z.string()), items: z.array(NamespaceRef) });
export type MyNamespaces = z.infer<typeof MyNamespaces>;
const Fact = z.object({ link: z.string(), holds: z.boolean(), statement: z.string() });
const Explanation = z.object({
  image: z.string(),
  namespace: z.string(),
  visible: z.boolean(),
  facts: z.array(Fact),
  missingLink: z.nullable(Fact),
  pullAccess: z.optional(z.nullable(Fact)),
  offeredBy: z.array(z.string()),
  asOf: z.string(),
  pendingChanges: z.array(z.object({ detailType: z.string(), occurredAt: z.string() })),
});
export type Explanation = z.infer<typeof Explanation>;
const Rule = z.object({ visibility: Visibility, boundWorkspaces: z.array(z.string()) });
const BlastRadius = z.object({
  space: z.string(),
  action: z.string(),
  before: Rule,
  after: z.nullable(Rule),
  removedAudiences: z.array(z.string()),
  images: z.object({ count: z.number(), first: z.array(z.string()) }),
  namespaces: z.object({ count: z.number(), first: z.array(z.string()), alsoUnregistered: z.boolean() }),
  pullAccess: z.optional(z.object({ robots: z.array(z.object({ workspaceId: z.string(), robot: z.string() })) })),
  asOf: z.string(),
});
export type BlastRadius = z.infer<typeof BlastRadius>;
const Registry = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  mode: z.optional(z.string()),
  url: z.optional(z.string()),
  host: z.string(),
  insecure: z.optional(z.boolean()),
  status: z.optional(z.string()),
  statusMessage: z.optional(z.string()),
  statusCheckedAt: z.optional(z.string()),
  lastSuccessAt: z.optional(z.string()),
  webhookCoverage: z.optional(z.object({ checkedAt: z.string(), covered: z.number(), uncovered: z.array(z.object({ space: z.string(), reason: z.string() })) })),
  pullAccess: z.optional(z.object({ status: z.string(), checkedAt: z.string(), message: z.optional(z.string()) })),
  pullCredentialsSetAt: z.optional(z.string()),
  ownerWorkspaceId: z.optional(z.string()),
});
export type Registry = z.infer<typeof Registry>;
const Registries = z.object({ items: z.array(Registry) });
const Connected = z.extend(Registry, { webhook: z.object({ url: z.string(), secret: z.string(), authHeader: z.optional(z.string()) }) });
export type Connected = z.infer<typeof Connected>;
const WebhookConfig = z.object({ kind: z.string(), url: z.string(), format: z.string(), pasteInto: z.string(), snippet: z.string(), deriveProjectSecret: z.optional(z.string()) });
export type WebhookConfig = z.infer<typeof WebhookConfig>;
const Space = z.object({ name: z.string(), visibility: Visibility, visibilityUnconfirmed: z.optional(z.boolean()) });
export type Space = z.infer<typeof Space>;
const Spaces = z.object({ items: z.array(Space) });
const Bindings = z.object({ items: z.array(z.object({ workspaceId: z.string() })) });
const Workspace = z.object({ id: z.string(), displayName: z.optional(z.string()), createdAt: z.optional(z.string()) });
export type Workspace = z.infer<typeof Workspace>;
const Workspaces = z.object({ items: z.array(Workspace) });
const PullGrant = z.object({
  registryId: z.string(),
  projects: z.array(z.string()),
  status: z.string(),
  statusMessage: z.optional(z.string()),
  syncedAt: z.optional(z.string()),
  robot: z.optional(z.object({ name: z.string(), projects: z.array(z.string()), expiresAt: z.optional(z.nullable(z.string())) })),
});
export type PullGrant = z.infer<typeof PullGrant>;
const WorkspaceDetail = z.extend(Workspace, { spaces: z.array(z.object({ registryId: z.string(), space: z.string() })), pullAccess: z.array(PullGrant) });
export type WorkspaceDetail = z.infer<typeof WorkspaceDetail>;
const Namespaces = z.object({ items: z.array(NamespaceRef) });
const AuditEntry = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  operator: z.optional(z.string()),
  action: z.string(),
  target: z.record(z.string(), z.string()),
  change: z.optional(z.object({ field: z.string(), before: z.optional(z.nullable(z.string())), after: z.nullable(z.string()) })),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
const AuditPage = z.object({ items: z.array(AuditEntry), nextCursor: z.nullable(z.string()) });
const ServiceStatus = z.object({
  index: z.object({
    lagSeconds: z.number(),
    oldestPending: z.optional(z.object({ at: z.string(), detailType: z.string() })),
    pending: z.object({ count: z.number(), atLeast: z.boolean() }),
    lastAppliedAt: z.optional(z.string()),
  }),
  lastRepair: z.optional(z.object({ at: z.string(), drift: z.number(), failed: z.number(), durationMs: z.number() })),
  registries: z.array(z.object({ id: z.string(), name: z.string(), status: z.string(), lastSuccessAt: z.optional(z.string()), syncAgeSeconds: z.optional(z.number()) })),
});
export type ServiceStatus = z.infer<typeof ServiceStatus>;
const Anything = z.unknown();
const Issue = z.object({ path: z.string(), message: z.string() });
const ErrorBody = z.object({ error: z.string(), message: z.string(), details: z.optional(z.object({ issues: z.optional(z.array(Issue)) })) });
export type Issue = z.infer<typeof Issue>;
export type NewRegistry = { name: string; kind: string; mode: string; url: string; credentials?: { username: string; password: string }; insecure?: boolean };
/** `PATCH /registries/{id}`: only what changed; `pullCredentials: null` removes them. */
export type RegistryEdit = Partial<Pick<NewRegistry, 'name' | 'url' | 'credentials' | 'insecure'>> & { confirmHostChange?: boolean; pullCredentials?: { username: string; password: string } | null };

export type PreviewAction = { action: 'make-private' | 'delete' } | { action: 'unbind'; workspaceId: string };

/** An answer other than 2xx, or no answer at all (`status` 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** A 400's field-by-field reasons (`path` as `credentials.username`). */
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

/** What to tell the user about a failed call. */
export const messageOf = (error: unknown) => (error instanceof ApiError ? error.message : 'Something went wrong in the page; reload it.');

const enc = encodeURIComponent;

const bodyOf = async (res: Response): Promise<unknown> => {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
};

/** One same-origin call with the pasted bearer token; the answer is validated by `schema`, an error becomes an ApiError. */
const requester =
  (token: () => string | undefined) =>
  async <S extends z.ZodMiniType>(schema: S, path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<z.infer<S>> => {
    const auth = token();
    let res: Response;
    try {
      res = await fetch(path, {
        method: init.method ?? 'GET',
        headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.signal,
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError(0, 'NETWORK', 'The service cannot be reached. Check the connection, then retry.');
    }
    const body = await bodyOf(res);
    if (!res.ok) {
      const err = ErrorBody.safeParse(body);
      if (!err.success) throw new ApiError(res.status, `HTTP_${res.status}`, `The service answered ${res.status}.`);
      throw new ApiError(res.status, err.data.error, err.data.message, err.data.details?.issues ?? []);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new ApiError(res.status, 'BAD_RESPONSE', `Unexpected answer from ${path.split('?')[0]}.`);
    return parsed.data;
  };

/** The service's API; paths are relative so the page also works under a stage path. */
export const createApi = (token: () => string | undefined) => {
  const request = requester(token);
  const ns = (n: NamespaceRef) => `api/v1/clusters/${enc(n.cluster)}/namespaces/${enc(n.namespace)}`;
  const reg = (id: string) => `api/v1/registries/${enc(id)}`;
  const space = (id: string, name: string) => `${reg(id)}/spaces/${enc(name)}`;
  return {
    myNamespaces: () => request(MyNamespaces, 'api/v1/me/namespaces'),
    images: (n: NamespaceRef, q: string, cursor: string | undefined, limit: number, signal?: AbortSignal) => {
      const params = new URLSearchParams({ limit: String(limit) });
      if (q) params.set('q', q);
      if (cursor) params.set('cursor', cursor);
      return request(ImagePage, `${ns(n)}/images?${params}`, { signal });
    },
    tags: (n: NamespaceRef, image: string, signal?: AbortSignal) => request(TagList, `${ns(n)}/tags?image=${enc(image)}`, { signal }),
    explain: (n: NamespaceRef, image: string) => request(Explanation, `${ns(n)}/explain?image=${enc(image)}`),
    registries: () => request(Registries, 'api/v1/registries'),
    spaces: (registryId: string) => request(Spaces, `api/v1/registries/${enc(registryId)}/spaces`),
    bindings: (registryId: string, space: string) => request(Bindings, `api/v1/registries/${enc(registryId)}/spaces/${enc(space)}/bindings`),
    preview: (registryId: string, space: string, action: PreviewAction) =>
      request(BlastRadius, `api/v1/registries/${enc(registryId)}/spaces/${enc(space)}/preview`, { method: 'POST', body: { ...action, first: 10 } }),
    registry: (id: string) => request(Registry, reg(id)),
    connect: (body: NewRegistry, owner?: string) => request(Connected, owner ? `api/v1/workspaces/${enc(owner)}/registries` : 'api/v1/registries', { method: 'POST', body }),
    updateRegistry: (id: string, body: RegistryEdit) => request(Registry, reg(id), { method: 'PATCH', body }),
    removeRegistry: (id: string) => request(Anything, reg(id), { method: 'DELETE' }),
    sync: (id: string) => request(Anything, `${reg(id)}/sync`, { method: 'POST' }),
    webhookConfig: (id: string) => request(WebhookConfig, `${reg(id)}/webhook-config`),
    createSpace: (id: string, name: string, visibility: 'public' | 'private') => request(Space, `${reg(id)}/spaces`, { method: 'POST', body: { name, visibility } }),
    setVisibility: (id: string, name: string, visibility: 'public' | 'private') => request(Space, space(id, name), { method: 'PATCH', body: { visibility } }),
    deleteSpace: (id: string, name: string) => request(Anything, space(id, name), { method: 'DELETE' }),
    bind: (id: string, name: string, workspaceId: string) => request(Anything, `${space(id, name)}/bindings/${enc(workspaceId)}`, { method: 'PUT' }),
    unbind: (id: string, name: string, workspaceId: string) => request(Anything, `${space(id, name)}/bindings/${enc(workspaceId)}`, { method: 'DELETE' }),
    workspaces: () => request(Workspaces, 'api/v1/workspaces'),
    workspace: (id: string) => request(WorkspaceDetail, `api/v1/workspaces/${enc(id)}`),
    putWorkspace: (id: string, displayName?: string) => request(Anything, `api/v1/workspaces/${enc(id)}`, { method: 'PUT', body: displayName ? { displayName } : {} }),
    namespaces: () => request(Namespaces, 'api/v1/namespaces'),
    putNamespace: (cluster: string, namespace: string, workspaceId: string | null) =>
      request(Anything, `api/v1/clusters/${enc(cluster)}/namespaces/${enc(namespace)}`, { method: 'PUT', body: { workspaceId } }),
    audit: (cursor?: string, limit = 25) => request(AuditPage, `api/v1/audit?${new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) })}`),
    status: () => request(ServiceStatus, 'api/v1/status'),
  };
};
export type Api = ReturnType<typeof createApi>;
