import { createHash } from 'node:crypto';
import * as z from 'zod';
import { MAX_PLATFORMS, platformName, platformsOf, TagDetails } from '../domain/image-details.ts';
import { Digest, RepositoryName, TagName } from '../domain/model.ts';
import { defaultEgressPolicy, MAX_PAGES, requestRegistry, type EgressPolicy } from './egress.ts';
import { mapLimit } from './pool.ts';
import { RegistryCallError, sanitizeRegistryText } from './registry-error.ts';
import { followPages, kindOf, parseAnswer, reasonsOf, type RegistryHttpAnswer } from './registry-http.ts';

export type DistributionClientOptions = {
  /** Base URL of the registry, e.g. `https://registry.example.com` (the API lives under `/v2/`). */
  url: string;
  /** Basic auth (htpasswd). Token auth (a `Bearer` challenge) is not supported. */
  credentials?: { username: string; password: string };
  /** Per request; default 5000. */
  timeoutMs?: number;
  /** `n` of `_catalog` and `tags/list` pages; default 100. */
  pageSize?: number;
  /** Where calls may connect; default `defaultEgressPolicy()` (the environment's). */
  policy?: EgressPolicy;
  /** Pages one list call follows at most; default `MAX_PAGES`. */
  maxPages?: number;
};

/** Every manifest kind a tag can point at; the registry answers with the digest of what is stored. */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The biggest manifest body read for its details: real ones are a few KiB, an index of hundreds of platforms well under this. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const Size = TagDetails.shape.size.unwrap();
const Descriptor = z.object({ size: Size, digest: Digest.optional() });
const PlatformFields = z.object({ os: z.unknown().optional(), architecture: z.unknown().optional(), variant: z.unknown().optional() });
/** What a manifest or an index body says of its size and platforms (other fields are not read). */
const ManifestBody = z.object({
  config: Descriptor.optional(),
  layers: z.array(Descriptor).max(10_000).optional(),
  manifests: z.array(z.object({ digest: Digest.optional(), platform: PlatformFields.nullish() })).max(10_000).optional(),
});
type ManifestBody = z.infer<typeof ManifestBody>;
/** An image's config blob is read for its platform only; a real one (history included) is far under this. */
const MAX_CONFIG_BYTES = 1024 * 1024;
/** An index's platform manifests read at once for its size. */
const CHILD_CONCURRENCY = 4;

/** What one manifest or blob body of a digest is; `undefined` when it is gone, or what reading it met (see below). */
type ReadBody = (kind: 'manifests' | 'blobs', digest: string, maxBytes: number) => Promise<string | undefined>;

/** Config and layers, summed; undefined when the manifest is not an image's. */
const imageSize = (m: ManifestBody | undefined) => {
  if (!m?.config || !m.layers) return undefined;
  const size = m.layers.reduce((sum, l) => sum + l.size, m.config.size);
  return Size.safeParse(size).success ? size : undefined;
};

/** A part read for details only (a platform manifest, a config): what fails there leaves that field out. */
const optional = async <T>(read: () => Promise<T | undefined>): Promise<T | undefined> => {
  try {
    return await read();
  } catch (error) {
    if (error instanceof RegistryCallError) return undefined;
    throw error;
  }
};

/**
 * An index's platforms (attestations left out) and, when every platform's manifest reads, the sum of their images
 * (one GET each, at most `MAX_PLATFORMS`); an image's size and, from its config blob, its platform.
 */
const detailsOfManifest = async (m: ManifestBody, read: ReadBody): Promise<TagDetails | undefined> => {
  if (m.manifests) {
    const children = m.manifests.filter((d) => d.digest && platformName(d.platform)).slice(0, MAX_PLATFORMS);
    const sizes = await mapLimit(children, CHILD_CONCURRENCY, (d) => optional(async () => imageSize(parseBody(await read('manifests', d.digest ?? '', MAX_MANIFEST_BYTES), ManifestBody))));
    const size = sizes.every((n) => n !== undefined) && children.length > 0 ? sizes.reduce((a: number, n) => a + (n ?? 0), 0) : undefined;
    return { platforms: platformsOf(m.manifests.map((d) => d.platform)), ...(size === undefined ? {} : { size }) };
  }
  const size = imageSize(m);
  if (size === undefined) return undefined;
  const config = m.config?.digest;
  const platform = config ? await optional(async () => platformName(parseBody(await read('blobs', config, MAX_CONFIG_BYTES), PlatformFields))) : undefined;
  // `[]`: read and not known (a config that does not read), so the next reconcile does not ask again.
  return { size, platforms: platform ? [platform] : [] };
};

/** A body as JSON of `schema`, or undefined (absent, not JSON, not that shape). */
const parseBody = <T extends z.ZodType>(text: string | undefined, schema: T): z.infer<T> | undefined => {
  if (text === undefined) return undefined;
  try {
    return schema.safeParse(JSON.parse(text)).data;
  } catch {
    return undefined;
  }
};

const CatalogPage = z.object({ repositories: z.array(z.string()).nullish() });
// `tags` is null once every tag of a repository is deleted.
const TagsPage = z.object({ name: z.string(), tags: z.array(z.string()).nullish() });

/**
 * Creates a client for the Docker Registry HTTP API v2 (CNCF distribution). Every call throws
 * `RegistryCallError` on failure: `unauthorized` for 401, `unavailable` for no answer, 5xx, 429, a redirect or a
 * body that is not what the API promises (or bigger than the caps of `requestRegistry`), `refused` for an address
 * the egress policy denies.
 */
export const createDistributionClient = (opts: DistributionClientOptions) => {
  const base = new URL(`${opts.url.replace(/\/+$/, '')}/`);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const pageSize = Math.max(1, Math.floor(opts.pageSize ?? 100));
  const egress = opts.policy ?? defaultEgressPolicy();
  const maxPages = opts.maxPages ?? MAX_PAGES;
  const authorization = opts.credentials
    ? `Basic ${Buffer.from(`${opts.credentials.username}:${opts.credentials.password}`).toString('base64')}`
    : undefined;

  const checkRepository = (repo: string) => {
    // Names go into the path unencoded (`team/app`): refuse anything that could change the path.
    if (!RepositoryName.safeParse(repo).success)
      throw new RegistryCallError('refused', `"${sanitizeRegistryText(repo)}" is not a valid repository name`);
  };

  const exchange = async (method: 'GET' | 'HEAD', url: URL, headers: Record<string, string> = {}, maxBodyBytes?: number): Promise<RegistryHttpAnswer> => {
    const what = `${method} ${url.pathname}`;
    const res = await requestRegistry({
      label: 'registry',
      method,
      url,
      timeoutMs,
      policy: egress,
      ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
      headers: { accept: 'application/json', ...(authorization ? { authorization } : {}), ...headers },
    });
    // Never followed: a redirect would replay the credentials elsewhere.
    if (res.status >= 300 && res.status < 400) {
      const location = sanitizeRegistryText(res.headers.get('location') ?? '?');
      throw new RegistryCallError('unavailable', `registry redirected ${what} to ${location}: register the final URL`, res.status);
    }
    if (res.status < 200 || res.status >= 300) {
      const kind = kindOf(res.status);
      const reasons = reasonsOf(res.text, res.statusText);
      throw new RegistryCallError(kind, `registry ${kind === 'unavailable' ? 'unavailable' : 'refused'} ${what}: ${res.status} ${reasons}`, res.status);
    }
    return { what, status: res.status, headers: res.headers, text: res.text };
  };

  const parse = <T extends z.ZodType>(answer: RegistryHttpAnswer, schema: T) => parseAnswer('registry', answer, schema);

  /** Every item of a `_catalog` or `tags/list` from the first page (`Link` paging, at most `maxPages` pages). */
  const listAll = async (path: string, page: (answer: RegistryHttpAnswer) => string[]) => {
    const first = new URL(path, base);
    first.searchParams.set('n', String(pageSize));
    return followPages({ label: 'registry', base, first, maxPages, get: (url) => exchange('GET', url), items: page });
  };

  return {
    /** Resolves when `/v2/` answers 200 with these credentials; `unauthorized` when it answers 401. */
    async ping(): Promise<void> {
      await exchange('GET', new URL('v2/', base));
    },

    /** The registry's clock (its `Date` header, second resolution) as ms since epoch; `undefined` when it sends none. */
    async serverTime(): Promise<number | undefined> {
      const date = Date.parse((await exchange('GET', new URL('v2/', base))).headers.get('date') ?? '');
      return Number.isFinite(date) ? date : undefined;
    },

    /** Every repository (`alpine`, `team/sub/app`), across all `_catalog` pages, in the registry's order. */
    async catalog(): Promise<string[]> {
      return listAll('v2/_catalog', (answer) => parse(answer, CatalogPage).repositories ?? []);
    },

    /** The tags of `repo` in the registry's order; `[]` when the repository is unknown or has no tag left. */
    async tags(repo: string): Promise<string[]> {
      checkRepository(repo);
      try {
        // 2.8 ignores `n` here and answers one page; later versions page with `Link` like `_catalog`.
        return await listAll(`v2/${repo}/tags/list`, (answer) => parse(answer, TagsPage).tags ?? []);
      } catch (error) {
        if (error instanceof RegistryCallError && error.kind === 'not-found') return [];
        throw error;
      }
    },

    /**
     * The digest `repo:tag` points at (`Docker-Content-Digest` of a HEAD, which costs no manifest download), or
     * `undefined` when the repository or tag is unknown. The registry may count the HEAD as a pull.
     */
    async manifestDigest(repo: string, tag: string): Promise<string | undefined> {
      checkRepository(repo);
      if (!TagName.safeParse(tag).success) throw new RegistryCallError('refused', `"${sanitizeRegistryText(tag)}" is not a valid tag`);
      let answer;
      try {
        answer = await exchange('HEAD', new URL(`v2/${repo}/manifests/${tag}`, base), { accept: MANIFEST_ACCEPT });
      } catch (error) {
        if (error instanceof RegistryCallError && error.kind === 'not-found') return undefined;
        throw error;
      }
      const digest = Digest.safeParse(answer.headers.get('docker-content-digest'));
      if (!digest.success)
        throw new RegistryCallError('unavailable', `registry answered ${answer.what} without a valid Docker-Content-Digest header`, answer.status);
      return digest.data;
    },

    /**
     * What manifest `digest` of `repo` is (GETs with the same Accept list, bodies bounded): an image's size (config +
     * layers) and platform (its config blob), an index's platforms and size (its platforms' manifests). Only the top
     * manifest must read: a part that does not leaves its field out. `undefined` when it is gone or not a manifest
     * this reads. A sha256 body that does not hash to its digest is refused (`unavailable`): it is not what was asked.
     */
    async manifestDetails(repo: string, digest: string): Promise<TagDetails | undefined> {
      checkRepository(repo);
      if (!Digest.safeParse(digest).success) throw new RegistryCallError('refused', `"${sanitizeRegistryText(digest)}" is not a digest`);
      const read: ReadBody = async (kind, d, maxBytes) => {
        let answer;
        try {
          answer = await exchange('GET', new URL(`v2/${repo}/${kind}/${d}`, base), kind === 'manifests' ? { accept: MANIFEST_ACCEPT } : {}, maxBytes);
        } catch (error) {
          if (error instanceof RegistryCallError && error.kind === 'not-found') return undefined;
          throw error;
        }
        if (d.startsWith('sha256:') && `sha256:${createHash('sha256').update(answer.text, 'utf8').digest('hex')}` !== d)
          throw new RegistryCallError('unavailable', `registry answered ${answer.what} with a body that is not ${d}`, answer.status);
        return answer.text;
      };
      const text = await read('manifests', digest, MAX_MANIFEST_BYTES);
      if (text === undefined) return undefined;
      const manifest = parseBody(text, ManifestBody);
      if (!manifest) throw new RegistryCallError('unavailable', `registry answered GET v2/${sanitizeRegistryText(repo)}/manifests/${digest} with a body that is not a manifest`);
      const details = await detailsOfManifest(manifest, read);
      return details && TagDetails.safeParse(details).success ? details : undefined;
    },
  };
};

/** The client `createDistributionClient` returns. */
export type DistributionClient = ReturnType<typeof createDistributionClient>;
