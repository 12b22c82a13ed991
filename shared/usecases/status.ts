import * as z from 'zod';
import { Registry } from '../domain/model.ts';
import type { Deps } from '../deps.ts';
import { RepairOutcome } from '../store/index-status.ts';

/** How many waiting changes a status read counts at most (a Query of the marks' GSI, paged). */
export const MAX_PENDING_COUNTED = 1000;

export const ServiceStatus = z.object({
  index: z.object({
    lagSeconds: z.number().nonnegative().describe('age of the oldest change the indexer has not applied yet; 0 when none waits'),
    oldestPending: z.object({ at: z.string(), detailType: z.string() }).optional().describe('that change: when it was made, and its event'),
    pending: z
      .object({ count: z.int(), atLeast: z.boolean().describe(`counted up to ${MAX_PENDING_COUNTED}: more may wait`) })
      .describe('changes waiting for the indexer (pull-access syncs not included)'),
    lastAppliedAt: z.string().optional().describe('when a holder last applied a batch of a space’s work'),
    batchesApplied: z.int(),
    repositoriesApplied: z.int(),
  }),
  lastRepair: RepairOutcome.optional().describe('the last full repair: `drift` rows it found wrong and fixed (0 when healthy), `failed` parts it could not repair'),
  registries: z.array(
    Registry.pick({ id: true, name: true, kind: true, status: true, lastSuccessAt: true }).extend({
      syncAgeSeconds: z.number().nonnegative().optional().describe('since `lastSuccessAt`, the last reconcile that listed the whole registry'),
    }),
  ),
});
export type ServiceStatus = z.infer<typeof ServiceStatus>;

/** Seconds from an ISO time to `now` (never negative: clocks of other writers may run a little ahead). */
const secondsSince = (iso: string, now: Date) => Math.max(0, now.getTime() - Date.parse(iso)) / 1000;

/**
 * How fresh the index is (`GET /api/v1/status`): the oldest change not yet applied and how many wait (from the
 * marks' GSI, eventually consistent), the indexer's counters, the last repair, and each registry's sync age.
 * Reads one item, two Queries of the marks and the registries, all at once.
 */
export const indexStatus = async (deps: Pick<Deps, 'store' | 'clock'>): Promise<ServiceStatus> => {
  const now = deps.clock();
  const [oldest, pending, status, registries] = await Promise.all([
    deps.store.pending.oldest(),
    deps.store.pending.count(MAX_PENDING_COUNTED),
    deps.store.indexStatus.get(),
    deps.store.registries.list(),
  ]);
  const { lastRepair, ...applied } = status;
  return {
    index: {
      lagSeconds: oldest ? secondsSince(oldest.at, now) : 0,
      ...(oldest ? { oldestPending: { at: oldest.at, detailType: oldest.detailType } } : {}),
      pending,
      ...applied,
    },
    ...(lastRepair ? { lastRepair } : {}),
    registries: registries.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      status: r.status,
      ...(r.lastSuccessAt ? { lastSuccessAt: r.lastSuccessAt, syncAgeSeconds: secondsSince(r.lastSuccessAt, now) } : {}),
    })),
  };
};
