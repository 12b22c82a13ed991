import * as z from 'zod';
import { keys } from './keys.ts';
import type { TableOps } from './table.ts';

/** The outcome of the last full repair (`reindexAll`): rows it found wrong and fixed, parts it could not repair. */
export const RepairOutcome = z.object({ at: z.string(), drift: z.int(), failed: z.int(), durationMs: z.int() });
export type RepairOutcome = z.infer<typeof RepairOutcome>;

/** What the indexer keeps about itself; counters start at 0 when the item does not exist yet. */
export const IndexStatus = z.object({
  lastAppliedAt: z.string().optional(),
  batchesApplied: z.int().default(0),
  repositoriesApplied: z.int().default(0),
  lastRepair: RepairOutcome.optional(),
});
export type IndexStatus = z.infer<typeof IndexStatus>;

/**
 * The index's bookkeeping item (`GET /api/v1/status`). Holders of different spaces record at once: counters are
 * added, never read and written back, so no batch is lost; `lastAppliedAt` is the last writer's (holders' clocks
 * agree to within milliseconds).
 */
export const indexStatusRepository = (ops: TableOps) => ({
  /** Counts `batches` a holder applied, `repositories` re-derived in them, and when. One write, no read. */
  recordApplied: (at: string, repositories: number, batches = 1) =>
    ops.update(keys.indexStatus(), {
      UpdateExpression: 'SET entityType = :type, lastAppliedAt = :at ADD batchesApplied :b, repositoriesApplied :n',
      ExpressionAttributeValues: { ':type': 'IndexStatus', ':at': at, ':b': batches, ':n': repositories },
    }),

  recordRepair: (repair: RepairOutcome) =>
    ops.update(keys.indexStatus(), {
      UpdateExpression: 'SET entityType = :type, lastRepair = :r',
      ExpressionAttributeValues: { ':type': 'IndexStatus', ':r': repair },
    }),

  get: async (): Promise<IndexStatus> => (await ops.get(IndexStatus, keys.indexStatus())) ?? IndexStatus.parse({}),
});
