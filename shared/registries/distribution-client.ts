import { createHash } from 'node:crypto';
import * as z from 'zod';
import { MAX_PLATFORMS, platformsOf, TagDetails } from '../domain/image-details.ts';
import { Digest, RepositoryName, TagName } from '../domain/model.ts';
import { defaultEgressPolicy, MAX_PAGES, requestRegistry, type EgressPolicy } from './egress.ts';
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
const Descriptor = z.object({ size: Size });
/** What a manifest or an index body says of its size and platforms (other fields are not read). */
const ManifestBody = z.object({
  config: Descriptor.optional(),
  layers: z.array(Descriptor).max(10_000).optional(),
  manifests: z.array(z.object({ platform: z.object({ os: z.unknown().optional(), architecture: z.unknown().optional(), variant: z.unknown().optional() }).nullish() })).max(10_000).optional(),
});

/** An index's platforms (no size: its images are other manifests); an image's config and layers, summed. */
const detailsOfManifest = (m: z.infer<typeof ManifestBody>): TagDetails | undefined => {
  if (m.manifests) return { platforms: platformsOf(m.manifests.map((d) => d.platform)).slice(0, MAX_PLATFORMS) };
  if (!m.config || !m.layers) return undefined;
  const size = m.layers.reduce((sum, l) => sum + l.size, m.config.size);
  return Size.safeParse(size).success ? { size } : undefined;
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
     * What manifest `digest` of `repo` is (a GET with the same Accept list, body at most `MAX_MANIFEST_BYTES`): an
     * image's size (config + layers), an index's platforms. `undefined` when it is gone or not a manifest this reads.
     * A sha256 body that does not hash to `digest` is refused (`unavailable`): it is not the manifest asked for.
     */
    async manifestDetails(repo: string, digest: string): Promise<TagDetails | undefined> {
      checkRepository(repo);
      if (!Digest.safeParse(digest).success) throw new RegistryCallError('refused', `"${sanitizeRegistryText(digest)}" is not a digest`);
      let answer;
      try {
        answer = await exchange('GET', new URL(`v2/${repo}/manifests/${digest}`, base), { accept: MANIFEST_ACCEPT }, MAX_MANIFEST_BYTES);
      } catch (error) {
        if (error instanceof RegistryCallError && error.kind === 'not-found') return undefined;
        throw error;
      }
      if (digest.startsWith('sha256:') && `sha256:${createHash('sha256').update(answer.text, 'utf8').digest('hex')}` !== digest)
        throw new RegistryCallError('unavailable', `registry answered ${answer.what} with a body that is not manifest ${digest}`, answer.status);
      const details = detailsOfManifest(parse(answer, ManifestBody));
      return details && TagDetails.safeParse(details).success ? details : undefined;
    },
  };
};

/** The client `createDistributionClient` returns. */
export type DistributionClient = ReturnType<typeof createDistributionClient>;
