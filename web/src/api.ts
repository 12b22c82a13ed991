import * as z from 'zod/mini';

/** The JSON API as the page reads it (only the fields it uses); every answer is validated before use. */
const Visibility = z.enum(['public', 'private']);
export const Image = z.object({
  image: z.string(),
  registryId: z.string(),
  space: z.string(),
  repository: z.string(),
  visibility: Visibility,
  grantedBy: z.array(z.string()),
  tagCount: z.number(),
  latestTag: z.object({ tag: z.string(), digest: z.string(), pushedAt: z.string() }),
});
export type Image = z.infer<typeof Image>;
const ImagePage = z.object({ items: z.array(Image), nextCursor: z.nullable(z.string()) });
export type ImagePage = z.infer<typeof ImagePage>;
const Tag = z.object({ tag: z.string(), digest: z.string(), pushedAt: z.string() });
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
const Registries = z.object({ items: z.array(z.object({ id: z.string(), name: z.string(), kind: z.string(), host: z.string() })) });
const Spaces = z.object({ items: z.array(z.object({ name: z.string(), visibility: Visibility })) });
const Bindings = z.object({ items: z.array(z.object({ workspaceId: z.string() })) });
const ErrorBody = z.object({ error: z.string(), message: z.string() });

export type PreviewAction = { action: 'make-private' | 'delete' } | { action: 'unbind'; workspaceId: string };

/** An answer other than 2xx, or no answer at all (`status` 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What to tell the user about a failed call. */
export const messageOf = (error: unknown) => (error instanceof ApiError ? error.message : 'Something went wrong in the page; reload it.');

const enc = encodeURIComponent;

/** Same-origin calls with the pasted bearer token; paths are relative so the page also works under a stage path. */
export const createApi = (token: () => string | undefined) => {
  const request = async <S extends z.ZodMiniType>(schema: S, path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<z.infer<S>> => {
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
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const err = ErrorBody.safeParse(body);
      throw new ApiError(res.status, err.success ? err.data.error : `HTTP_${res.status}`, err.success ? err.data.message : `The service answered ${res.status}.`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new ApiError(res.status, 'BAD_RESPONSE', `Unexpected answer from ${path.split('?')[0]}.`);
    return parsed.data;
  };
  const ns = (n: NamespaceRef) => `api/v1/clusters/${enc(n.cluster)}/namespaces/${enc(n.namespace)}`;
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
  };
};
export type Api = ReturnType<typeof createApi>;
