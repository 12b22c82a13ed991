import type { Deps } from '../deps.ts';
import { publishOrThrow } from '../events/publisher.ts';
import { inLambda, logger } from '../logger.ts';
import { metric, seconds } from '../metrics.ts';
import { auditEvents } from './audit.ts';

/** Marks older than this were not cleared by the indexer in time: their events are re-emitted. */
export const SWEEP_THRESHOLD_MS = 30_000;

/** After this many refusals in a row the bus is taken to be down: the next run tries again. */
const MAX_REFUSED_IN_A_ROW = 10;

/**
 * Re-emits the events of changes whose pending-index mark is older than the threshold (the process died
 * between the write and the publish, delivery failed, or the indexer failed and is retried). The indexer is
 * idempotent, so a re-emit of an event that did arrive is harmless. An event the bus refuses never holds the
 * others back: they are then published one by one, and the refused ones counted in `failed`. The state changes among
 * them are recorded in the audit trail again first (the same items), so an entry lost with its process is repaired.
 */
export const sweepPending = async (deps: Pick<Deps, 'store' | 'bus' | 'clock' | 'auditTtlDays'>, thresholdMs = SWEEP_THRESHOLD_MS) => {
  const olderThan = new Date(deps.clock().getTime() - thresholdMs).toISOString();
  // One batch per run: re-emitted events are handled asynchronously, so the next run sees what is left.
  const marks = await deps.store.pending.olderThan(olderThan, 1000);
  const events = marks.map((m) => m.event);
  await auditEvents(deps, events);
  let reemitted = 0;
  let failed = 0;
  if (events.length) {
    try {
      await publishOrThrow(deps.bus, events);
      reemitted = events.length;
    } catch (error) {
      let refusedInARow = 0;
      for (const event of events) {
        if (refusedInARow >= MAX_REFUSED_IN_A_ROW) break;
        try {
          await publishOrThrow(deps.bus, [event]);
          reemitted++;
          refusedInARow = 0;
        } catch (refusal) {
          failed++;
          refusedInARow++;
          logger.error('sweep could not re-emit a pending change', { detailType: event.detailType, id: event.detail.metadata.id, error: String(refusal) });
        }
      }
      if (reemitted === 0) throw error;
    }
  }
  if (reemitted || failed) logger.warn('sweep re-emitted pending changes', { reemitted, failed, waiting: marks.length });
  if (inLambda()) {
    const [oldest, waiting] = await Promise.all([deps.store.pending.oldest(), deps.store.pending.count()]);
    metric('IndexLagSeconds', oldest ? Math.max(0, (deps.clock().getTime() - Date.parse(oldest.at)) / 1000) : 0, seconds);
    metric('IndexPendingChanges', waiting.count);
  }
  return { reemitted, failed };
};
