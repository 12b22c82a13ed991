import { TagDetailsChanged, type BusEvent } from '../../events/index.ts';
import { detailsHold, type ScanSummary, type TagDetails } from '../domain/image-details.ts';
import { splitPath, type Registry } from '../domain/model.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { logger } from '../logger.ts';
import { mapLimit } from '../registries/pool.ts';

/** What is now known of the digest a tag points at; applied only while the tag still points at it. */
export type TagAnnotation = { path: string; tag: string; digest: string; details: TagDetails };

/** A Harbor scan that finished for `digest` in repository `path` (names checked by the caller). */
export type ScanResult = { path: string; digest: string; scan: ScanSummary };

/**
 * Sets details on tags the truth already holds, each with a pending mark and a `TagDetailsChanged` so the indexer
 * re-derives the repository. Never creates a tag, a repository or a space: a tag gone or moved to another digest is
 * left alone. Returns how many tags changed.
 */
export const annotateTags = async (registry: Registry, annotations: readonly TagAnnotation[], deps: Deps, ctx: Ctx) => {
  const events = await mapLimit(annotations, 8, async (a): Promise<BusEvent[]> => {
    const { space } = splitPath(a.path);
    const event = newEvent(deps, ctx, TagDetailsChanged, { registryId: registry.id, space, path: a.path, tag: a.tag, digest: a.digest });
    return (await deps.store.catalog.annotate({ registryId: registry.id, path: a.path, tag: a.tag }, a.digest, a.details, event)) ? [event] : [];
  });
  await publish(deps, ...events.flat());
  return events.flat().length;
};

/**
 * Harbor's `SCANNING_COMPLETED`: the scan goes on every present tag of that repository pointing at that digest, in a
 * space the truth holds. An unknown space, repository or digest changes nothing (a scan event never makes an image,
 * a space or a grant); a scan equal to the stored one writes nothing.
 */
export const applyScanResults = async (registry: Registry, scans: readonly ScanResult[], deps: Deps, ctx: Ctx) => {
  const annotations: TagAnnotation[] = [];
  for (const path of new Set(scans.map((s) => s.path))) {
    if (!(await deps.store.spaces.getLive(registry.id, splitPath(path).space))) continue;
    const tags = (await deps.store.catalog.tags(registry.id, path)).filter((t) => t.state === 'present');
    for (const s of scans.filter((x) => x.path === path))
      for (const t of tags) if (t.digest === s.digest && !detailsHold(t, { scan: s.scan })) annotations.push({ path, tag: t.tag, digest: s.digest, details: { scan: s.scan } });
  }
  const applied = await annotateTags(registry, annotations, deps, ctx);
  logger.info('scan results stored', { registryId: registry.id, received: scans.length, applied });
  return { received: scans.length, applied };
};
