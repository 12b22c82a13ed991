import type { Deps } from '../deps.ts';
import { logger } from '../logger.ts';

/** Marks older than this were not cleared by the indexer in time: their events are re-emitted. */
export const SWEEP_THRESHOLD_MS = 30_000;

/**
 * Re-emits the events of changes whose pending-index mark is older than the threshold (the process died
 * between the write and the publish, or delivery failed). The indexer is idempotent, so a re-emit of an
 * event that did arrive is harmless.
 */
export const sweepPending = async (deps: Pick<Deps, 'store' | 'bus' | 'clock'>, thresholdMs = SWEEP_THRESHOLD_MS) => {
  const olderThan = new Date(deps.clock().getTime() - thresholdMs).toISOString();
  // One batch per run: re-emitted events are handled asynchronously, so the next run sees what is left.
  const marks = await deps.store.pending.olderThan(olderThan, 1000);
  if (marks.length) await deps.bus.put(marks.map((m) => m.event));
  const reemitted = marks.length;
  if (reemitted) logger.warn('sweep re-emitted pending changes', { reemitted });
  return { reemitted };
};
