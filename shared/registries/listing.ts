import { compactDetails, MAX_PLATFORMS, TagDetails } from '../domain/image-details.ts';
import { RepositoryName, SpaceName, TagName, splitPath, type Visibility } from '../domain/model.ts';
import type { DistributionClient } from './distribution-client.ts';
import type { HarborArtifact, HarborClient } from './harbor-client.ts';
import { mapLimit } from './pool.ts';
import { RegistryCallError, sanitizeRegistryText } from './registry-error.ts';

/**
 * `pushedAt`: the registry's own push time of the tag (ms), when it tells one (Harbor does, distribution does not).
 * `details`: what the listing told of the digest (Harbor's artifacts do; a distribution listing only HEADs).
 */
export type ListedTag = { tag: string; digest: string; pushedAt?: number; details?: TagDetails };
/** `path` is the registry's repository name (`space/repo`, or `alpine` in a Docker Registry). */
export type ListedRepository = { path: string; tags: ListedTag[] };
/** `visibility`: Harbor's project `metadata.public`; absent for Docker Registry (always public). */
export type ListedSpace = { name: string; visibility?: Visibility; repositories: ListedRepository[] };

/** Everything a registry holds, as one client without our index would see it. */
export type RegistryListing = {
  /**
   * When the listing began, in the registry's own clock (its `Date` header, floored to the second; ours when it
   * sends none), so it orders against the registry's webhook times: a webhook newer than the listing wins.
   */
  startedAt: number;
  spaces: ListedSpace[];
  /** Spaces the credentials may not read: neither their content nor their absence can be trusted. */
  unreadable: { name: string; reason: string }[];
  /**
   * Repositories the registry would not list (a refusal for that one repository, an artifact that cannot be
   * read): absent from `spaces`, and neither their tags nor their absence can be trusted, so their truth is to
   * be left alone (and their space not taken as gone). Always set by `listDistribution` and `listHarbor`.
   */
  unreadableRepositories?: { path: string; reason: string }[];
  /**
   * Names the registry holds that this product cannot take (not a valid space, repository or tag name), left
   * out of `spaces`; and tags listed without a push time because the registry's is not a valid time. Names and
   * reasons are sanitised. Always set by `listDistribution` and `listHarbor`.
   */
  skipped?: { name: string; reason: string }[];
};

export type ListingProgress = { phase: 'repositories' | 'tags'; done: number; total: number };
export type ListingOptions = { concurrency?: number; onProgress?: (p: ListingProgress) => void };

const floorToSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

/** Calls `onProgress` once per item, and once with 0 done so a consumer learns the total first. */
const counter = (phase: ListingProgress['phase'], total: number, opts: ListingOptions) => {
  let done = 0;
  opts.onProgress?.({ phase, done, total });
  return () => opts.onProgress?.({ phase, done: ++done, total });
};

/** Why the product cannot take the repository `path` (`space/repo`, or `alpine` as `library/alpine`); `undefined` when it can. */
const pathProblem = (path: string) => {
  if (!RepositoryName.safeParse(path).success) return 'not a valid repository name';
  const { space, repository } = splitPath(path);
  if (!SpaceName.safeParse(space).success) return `its space "${space}" is not a valid space name`;
  if (!RepositoryName.safeParse(repository).success) return 'not a valid repository name';
  return undefined;
};

type Skipped = { name: string; reason: string };
const skip = (skipped: Skipped[], name: string, reason: string) => skipped.push({ name: sanitizeRegistryText(name), reason: sanitizeRegistryText(reason) });

/** A refusal of one repository's call: that repository is unreadable, the rest of the listing goes on. */
const isRepositoryLevel = (error: unknown): error is RegistryCallError =>
  error instanceof RegistryCallError && (error.kind === 'refused' || error.kind === 'not-found' || error.kind === 'conflict');

/**
 * Lists a Docker Registry: `_catalog` (every `Link` page) → `tags/list` per repository → the manifest digest of
 * every tag (a HEAD). Spaces are the repositories' first path segments (`library` for one-segment names).
 * Names the product cannot take are left out and reported in `skipped`; a repository whose own calls are
 * refused is left out and reported in `unreadableRepositories`. Any other failure (the registry unavailable,
 * a 401) fails the listing: a partial listing must never be mistaken for deletions.
 */
export const listDistribution = async (client: Omit<DistributionClient, 'manifestDetails'>, opts: ListingOptions = {}): Promise<RegistryListing> => {
  const concurrency = opts.concurrency ?? 8;
  const startedAt = floorToSecond((await client.serverTime()) ?? Date.now());
  const skipped: Skipped[] = [];
  const unreadable = new Map<string, string>();
  const paths = [...new Set(await client.catalog())].filter((path) => {
    const problem = pathProblem(path);
    if (problem) skip(skipped, path, problem);
    return !problem;
  });
  const repoDone = counter('repositories', paths.length, opts);
  const tagLists = await mapLimit(paths, concurrency, async (path) => {
    try {
      const tags = [...new Set(await client.tags(path))].filter((tag) => {
        const ok = TagName.safeParse(tag).success;
        if (!ok) skip(skipped, `${path}:${tag}`, 'not a valid tag');
        return ok;
      });
      return { path, tags };
    } catch (error) {
      if (!isRepositoryLevel(error)) throw error;
      unreadable.set(path, error.message);
      return { path, tags: [] };
    } finally {
      repoDone();
    }
  });
  const pairs = tagLists.flatMap(({ path, tags }) => tags.map((tag) => ({ path, tag })));
  const tagDone = counter('tags', pairs.length, opts);
  const digests = await mapLimit(pairs, concurrency, async ({ path, tag }) => {
    try {
      // `undefined`: the tag went between tags/list and this HEAD; the next listing sees it gone.
      return unreadable.has(path) ? undefined : await client.manifestDigest(path, tag);
    } catch (error) {
      if (!isRepositoryLevel(error)) throw error;
      unreadable.set(path, error.message);
      return undefined;
    } finally {
      tagDone();
    }
  });
  const spaces = new Map<string, ListedSpace>();
  let i = 0;
  for (const { path, tags } of tagLists) {
    const listed: ListedTag[] = [];
    for (const tag of tags) {
      const digest = digests[i++];
      if (digest) listed.push({ tag, digest });
    }
    if (unreadable.has(path)) continue;
    const name = splitPath(path).space;
    const space = spaces.get(name) ?? { name, repositories: [] };
    space.repositories.push({ path, tags: listed });
    spaces.set(name, space);
  }
  const unreadableRepositories = [...unreadable].map(([path, reason]) => ({ path, reason }));
  return { startedAt, spaces: [...spaces.values()], unreadable: [], unreadableRepositories, skipped };
};

/**
 * What Harbor's artifacts of one repository tell of each digest: an image its size and `extra_attrs` platform; an
 * index its children's platforms and, when every child is listed with a size, the sum of their sizes (Harbor's own
 * `size` of an index is not its images'). Details that fail `TagDetails` are left out.
 */
export const harborDetails = (artifacts: readonly HarborArtifact[]) => {
  const byDigest = new Map(artifacts.map((a) => [a.digest, a]));
  const out = new Map<string, TagDetails>();
  for (const a of artifacts) {
    let d: TagDetails;
    if (a.children) {
      // Attestations (no platform) are not images of the index.
      const images = a.children.filter((c) => c.platform);
      const sizes = images.map((c) => byDigest.get(c.digest)?.size);
      const platforms = [...new Set(images.map((c) => c.platform ?? ''))].sort().slice(0, MAX_PLATFORMS);
      const size = images.length > 0 && sizes.every((n) => n !== undefined) ? sizes.reduce<number>((sum, n) => sum + (n ?? 0), 0) : undefined;
      d = { size, platforms, scan: a.scan };
    } else d = { size: a.size, platforms: a.platform ? [a.platform] : undefined, scan: a.scan };
    const parsed = TagDetails.safeParse(compactDetails(d));
    if (parsed.success && Object.keys(parsed.data).length > 0) out.set(a.digest, parsed.data);
  }
  return out;
};

/** A project the credentials may not read (anonymous, or not a member) is reported, not treated as empty. */
const isDenied = (error: unknown) => error instanceof RegistryCallError && (error.kind === 'unauthorized' || error.kind === 'refused');
const isGone = (error: unknown) => error instanceof RegistryCallError && error.kind === 'not-found';

/**
 * Lists a Harbor: projects (with `metadata.public`) → repositories → artifacts with their tags, every page.
 * A project that vanishes while being listed is left out (as gone); one the credentials may not read is
 * reported in `unreadable`; a repository whose artifacts are refused, or hold one that cannot be read, is left
 * out and reported in `unreadableRepositories`; names the product cannot take are left out and reported in
 * `skipped`, and so is a tag whose push time is not a valid time (it is listed without `pushedAt`). Any other
 * failure fails the listing.
 */
export const listHarbor = async (client: HarborClient, opts: ListingOptions = {}): Promise<RegistryListing> => {
  const concurrency = opts.concurrency ?? 4;
  const startedAt = floorToSecond((await client.serverTime()) ?? Date.now());
  const skipped: Skipped[] = [];
  const projects = (await client.listProjects()).filter((p) => {
    const ok = SpaceName.safeParse(p.name).success;
    if (!ok) skip(skipped, p.name, 'not a valid space name');
    return ok;
  });
  const unreadable = new Map<string, string>();
  const unreadableRepositories = new Map<string, string>();
  const gone = new Set<string>();
  const projectDone = counter('repositories', projects.length, opts);
  const repos = (
    await mapLimit(projects, concurrency, async (project) => {
      try {
        return (await client.listRepositories(project.name)).flatMap((r) => {
          const problem = r.name.startsWith(`${project.name}/`) ? pathProblem(r.name) : `not inside its project ${project.name}`;
          if (problem) skip(skipped, r.name, problem);
          return problem ? [] : [{ project: project.name, ...r }];
        });
      } catch (error) {
        if (isDenied(error)) unreadable.set(project.name, error instanceof Error ? error.message : String(error));
        else if (isGone(error)) gone.add(project.name);
        else throw error;
        return [];
      } finally {
        projectDone();
      }
    })
  ).flat();
  const repoDone = counter('tags', repos.length, opts);
  const listed = await mapLimit(repos, concurrency, async (repo): Promise<ListedRepository | undefined> => {
    try {
      const { artifacts, unreadable: bad } = await client.readArtifacts(repo.project, repo.repository);
      if (bad[0] !== undefined) {
        unreadableRepositories.set(repo.name, bad.length > 1 ? `${bad[0]} (and ${bad.length - 1} more)` : bad[0]);
        return undefined;
      }
      const details = harborDetails(artifacts);
      const tags = artifacts.flatMap((a) =>
        a.tags.map((t): ListedTag => {
          const pushedAt = t.pushTime === undefined ? undefined : Date.parse(t.pushTime);
          if (pushedAt === undefined) skip(skipped, `${repo.name}:${t.name}`, 'its push_time is not a valid time: listed without one');
          const listedTag: ListedTag = pushedAt === undefined ? { tag: t.name, digest: a.digest } : { tag: t.name, digest: a.digest, pushedAt };
          const d = details.get(a.digest);
          return d ? { ...listedTag, details: d } : listedTag;
        }),
      );
      return { path: repo.name, tags };
    } catch (error) {
      if (isDenied(error)) {
        unreadableRepositories.set(repo.name, error instanceof Error ? error.message : String(error));
        return undefined;
      }
      // A repository deleted meanwhile holds nothing.
      if (!isGone(error)) throw error;
      return { path: repo.name, tags: [] };
    } finally {
      repoDone();
    }
  });
  const byProject = new Map<string, ListedRepository[]>();
  for (const [i, repo] of repos.entries()) {
    const got = listed[i];
    if (got) byProject.set(repo.project, [...(byProject.get(repo.project) ?? []), got]);
  }
  const spaces = projects
    .filter((p) => !unreadable.has(p.name) && !gone.has(p.name))
    .map((p): ListedSpace => ({ name: p.name, visibility: p.public ? 'public' : 'private', repositories: byProject.get(p.name) ?? [] }));
  return {
    startedAt,
    spaces,
    unreadable: [...unreadable].map(([name, reason]) => ({ name, reason })),
    unreadableRepositories: [...unreadableRepositories].map(([path, reason]) => ({ path, reason })),
    skipped,
  };
};
