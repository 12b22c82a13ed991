import { splitPath, type Visibility } from '../domain/model.ts';
import type { DistributionClient } from './distribution-client.ts';
import { RegistryCallError, type HarborClient } from './harbor-client.ts';
import { mapLimit } from './pool.ts';

/** `pushedAt`: the registry's own push time of the tag (ms), when it tells one (Harbor does, distribution does not). */
export type ListedTag = { tag: string; digest: string; pushedAt?: number };
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

/**
 * Lists a Docker Registry: `_catalog` (every `Link` page) → `tags/list` per repository → the manifest digest of
 * every tag (a HEAD). Spaces are the repositories' first path segments (`library` for one-segment names). Any
 * failed call fails the listing: a partial listing must never be mistaken for deletions.
 */
export const listDistribution = async (client: DistributionClient, opts: ListingOptions = {}): Promise<RegistryListing> => {
  const concurrency = opts.concurrency ?? 8;
  const startedAt = floorToSecond((await client.serverTime()) ?? Date.now());
  const paths = await client.catalog();
  const repoDone = counter('repositories', paths.length, opts);
  const tagLists = await mapLimit(paths, concurrency, async (path) => {
    const tags = await client.tags(path);
    repoDone();
    return { path, tags };
  });
  const pairs = tagLists.flatMap(({ path, tags }) => tags.map((tag) => ({ path, tag })));
  const tagDone = counter('tags', pairs.length, opts);
  const digests = await mapLimit(pairs, concurrency, async ({ path, tag }) => {
    // `undefined`: the tag went between tags/list and this HEAD; the next listing sees it gone.
    const digest = await client.manifestDigest(path, tag);
    tagDone();
    return digest;
  });
  const spaces = new Map<string, ListedSpace>();
  let i = 0;
  for (const { path, tags } of tagLists) {
    const listed: ListedTag[] = [];
    for (const tag of tags) {
      const digest = digests[i++];
      if (digest) listed.push({ tag, digest });
    }
    const name = splitPath(path).space;
    const space = spaces.get(name) ?? { name, repositories: [] };
    space.repositories.push({ path, tags: listed });
    spaces.set(name, space);
  }
  return { startedAt, spaces: [...spaces.values()], unreadable: [] };
};

/** A project the credentials may not read (anonymous, or not a member) is reported, not treated as empty. */
const isDenied = (error: unknown) => error instanceof RegistryCallError && (error.kind === 'unauthorized' || error.kind === 'refused');
const isGone = (error: unknown) => error instanceof RegistryCallError && error.kind === 'not-found';

/**
 * Lists a Harbor: projects (with `metadata.public`) → repositories → artifacts with their tags, every page.
 * A project that vanishes while being listed is left out (as gone); one the credentials may not read is
 * reported in `unreadable`; any other failure fails the listing.
 */
export const listHarbor = async (client: HarborClient, opts: ListingOptions = {}): Promise<RegistryListing> => {
  const concurrency = opts.concurrency ?? 4;
  const startedAt = floorToSecond((await client.serverTime()) ?? Date.now());
  const projects = await client.listProjects();
  const unreadable = new Map<string, string>();
  const gone = new Set<string>();
  const projectDone = counter('repositories', projects.length, opts);
  const repos = (
    await mapLimit(projects, concurrency, async (project) => {
      try {
        return (await client.listRepositories(project.name)).map((r) => ({ project: project.name, ...r }));
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
  const listed = await mapLimit(repos, concurrency, async (repo): Promise<ListedRepository> => {
    try {
      const artifacts = await client.listArtifacts(repo.project, repo.repository);
      const tags = artifacts.flatMap((a) => a.tags.map((t) => ({ tag: t.name, digest: a.digest, pushedAt: Date.parse(t.pushTime) })));
      return { path: repo.name, tags };
    } catch (error) {
      if (isDenied(error)) unreadable.set(repo.project, error instanceof Error ? error.message : String(error));
      // A repository deleted meanwhile holds nothing.
      else if (!isGone(error)) throw error;
      return { path: repo.name, tags: [] };
    } finally {
      repoDone();
    }
  });
  const byProject = new Map<string, ListedRepository[]>();
  for (const [i, repo] of repos.entries()) byProject.set(repo.project, [...(byProject.get(repo.project) ?? []), listed[i] ?? { path: repo.name, tags: [] }]);
  const spaces = projects
    .filter((p) => !unreadable.has(p.name) && !gone.has(p.name))
    .map((p): ListedSpace => ({ name: p.name, visibility: p.public ? 'public' : 'private', repositories: byProject.get(p.name) ?? [] }));
  return { startedAt, spaces, unreadable: [...unreadable].map(([name, reason]) => ({ name, reason })) };
};
