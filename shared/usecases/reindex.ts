import type { Deps } from '../deps.ts';
import { repairIndex, type RepairProgress } from '../index/indexer.ts';
import { logger } from '../logger.ts';
import { metric } from '../metrics.ts';

/**
 * The full reindex: re-derives every audience's rows from the truth, removes rows whose space or registry is
 * gone, and reports the drift it found and fixed (0 when webhooks, events and the sweep kept up) and how many
 * parts failed (each logged with its item and counted on its registry; the others were still repaired), and records
 * that outcome for `GET /api/v1/status`. Progress is logged at most every 5 s and handed to `onProgress` at every step.
 */
export const reindexAll = async (deps: Pick<Deps, 'store' | 'clock'>, onProgress?: (p: RepairProgress) => void) => {
  const t0 = performance.now();
  let last = 0;
  const { drift, failed } = await repairIndex(deps, undefined, (p) => {
    onProgress?.(p);
    if (Date.now() - last >= 5000 || p.done === p.total) {
      last = Date.now();
      logger.info('reindex progress', { ...p });
    }
  });
  const durationMs = Math.round(performance.now() - t0);
  if (drift > 0) logger.warn('reindex found and fixed drift', { drift, durationMs });
  else logger.info('reindex found no drift', { drift, durationMs });
  if (failed.length) logger.error('reindex could not repair every part', { failed: failed.length, first: failed.slice(0, 10) });
  metric('IndexDrift', drift);
  const outcome = { drift, failed: failed.length, durationMs };
  // The repair is done: a status write that fails must not make the schedule run the whole repair again.
  await deps.store.indexStatus
    .recordRepair({ at: deps.clock().toISOString(), ...outcome })
    .catch((error: unknown) => logger.error('reindex outcome not recorded for the status', { error: String(error) }));
  return outcome;
};
