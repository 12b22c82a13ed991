import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SOURCE, type BusEvent } from '../../events/contract.ts';
import { logger } from '../logger.ts';
import type { Rule } from '../topology.ts';
import type { Bus } from './publisher.ts';

/** Invokes `fn` with one event (an EventBridge envelope) or, for a batched rule, an SQS event; answers its result. */
export type Dispatch = (fn: string, event: EventBridgeEvent<string, unknown> | SQSEvent) => Promise<unknown>;
type Envelope = EventBridgeEvent<string, unknown>;

/** A batch as an SQS event source hands it to a function: each record's body is an envelope, its id the record's. */
const sqsEventOf = (batch: readonly Envelope[]): SQSEvent => ({ Records: batch.map((e) => ({ messageId: e.id, body: JSON.stringify(e) }) as SQSRecord) });

/** The envelopes of `batch` that the function reported failed (as SQS reads a response: none listed, none failed). */
const failedOf = (batch: readonly Envelope[], response: unknown): Envelope[] => {
  const failures = (response as Partial<SQSBatchResponse> | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return [];
  const ids = new Set(failures.map((f) => f.itemIdentifier));
  return batch.filter((e) => ids.has(e.id));
};

/** Deliveries in flight at once to a function whose rule is not `serial` (as Lambda runs several invocations). */
export const LOCAL_WORKERS = 4;

/**
 * The in-process bus of the embedded runtime: routes by the same rule table as EventBridge and delivers each
 * matched event to its function, in arrival order, up to `LOCAL_WORKERS` at a time per function (one at a time
 * for a `serial` rule's). A `batchSize` rule's function gets what is queued, up to `localBatchSize`, as an SQS event
 * and answers the failed ones. The indexer serialises per space itself (its leases), as it must in AWS. A failed
 * delivery (or failed events of a batch) is retried 3 times; after that the pending mark and the sweep are the
 * safety net, as a DLQ would be.
 */
export const createLocalBus = (rules: readonly Rule[], dispatch: Dispatch, retryDelayMs = 100) => {
  type Lane = { queue: Envelope[]; running: number; width: number; batchSize?: number };
  const lanes = new Map<string, Lane>();
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];

  /** Delivers `batch` (one event, unless the lane batches) until it went through or failed 3 times. */
  const deliver = async (fn: string, lane: Lane, batch: Envelope[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!lane.batchSize) return void (await dispatch(fn, batch[0] as Envelope));
        batch = failedOf(batch, await dispatch(fn, sqsEventOf(batch)));
        if (!batch.length) return;
        if (attempt >= 3) throw new Error(`${batch.length} event(s) of the batch failed`);
      } catch (error) {
        if (attempt >= 3) {
          logger.error('event delivery failed; left to the sweep', { fn, detailTypes: batch.map((e) => e['detail-type']), error: String(error) });
          return;
        }
      }
      await new Promise((r) => setTimeout(r, retryDelayMs * attempt));
    }
  };

  const settled = () => {
    if (inFlight > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const work = async (fn: string, lane: Lane) => {
    for (let next = lane.queue.splice(0, lane.batchSize ?? 1); next.length; next = lane.queue.splice(0, lane.batchSize ?? 1)) await deliver(fn, lane, next);
    lane.running--;
    inFlight--;
    settled();
  };

  const enqueue = (fn: string, event: Envelope) => {
    let lane = lanes.get(fn);
    if (!lane) {
      const batched = rules.find((r) => r.fn === fn && r.batchSize);
      const batchSize = batched && (batched.localBatchSize ?? batched.batchSize);
      lane = { queue: [], running: 0, width: rules.some((r) => r.fn === fn && r.serial) ? 1 : LOCAL_WORKERS, ...(batchSize ? { batchSize } : {}) };
      lanes.set(fn, lane);
    }
    lane.queue.push(event);
    if (lane.running < lane.width) {
      lane.running++;
      inFlight++;
      // Started after the current `put` queued all its events, so a batched lane takes them together.
      queueMicrotask(() => void work(fn, lane));
    }
  };

  const bus: Bus & { idle(): Promise<void> } = {
    async put(events: readonly BusEvent[]) {
      for (const e of events) {
        const envelope: Envelope = {
          version: '0',
          id: randomUUID(),
          'detail-type': e.detailType,
          source: SOURCE,
          account: 'local',
          time: e.detail.metadata.occurredAt,
          region: 'local',
          resources: [],
          detail: e.detail,
        };
        for (const rule of rules) if (rule.detailTypes.includes(e.detailType)) enqueue(rule.fn, envelope);
      }
    },
    /** Resolves once every queued event has been delivered. */
    idle: () => (inFlight > 0 ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve()),
  };
  return bus;
};
