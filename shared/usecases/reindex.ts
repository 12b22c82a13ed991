import type { Deps } from '../deps.ts';
import { repairIndex, type RepairProgress } from '../index/indexer.ts';
import { logger } from '../logger.ts';

/**
 * The full reindex: re-derives every audience's rows from the truth, removes rows whose space or registry is
 * gone, and reports the drift it found and fixed (0 when webhooks, events and the sweep kept up). Progress is
 * logged at most every 5 s and handed to `onProgress` at every step.
 */
export const reindexAll = async (deps: Pick<Deps, 'store'>, onProgress?: (p: RepairProgress) => void) => {
  const t0 = performance.now();
  let last = 0;
  const { drift } = await repairIndex(deps, undefined, (p) => {
    onProgress?.(p);
    if (Date.now() - last >= 5000 || p.done === p.total) {
      last = Date.now();
      logger.info('reindex progress', { ...p });
    }
  });
  const durationMs = Math.round(performance.now() - t0);
  if (drift > 0) logger.warn('reindex found and fixed drift', { drift, durationMs });
  else logger.info('reindex found no drift', { drift, durationMs });
  return { drift, durationMs };
};
