import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { SOURCE, type BusEvent } from '../../events/contract.ts';
import { logger } from '../logger.ts';
import type { Rule } from '../topology.ts';
import type { Bus } from './publisher.ts';

export type Dispatch = (fn: string, event: EventBridgeEvent<string, unknown>) => Promise<void>;

/** Deliveries in flight at once to a function whose rule is not `serial` (as Lambda runs several invocations). */
export const LOCAL_WORKERS = 4;

/**
 * The in-process bus of the embedded runtime: routes by the same rule table as EventBridge and delivers each
 * matched event to its function, in arrival order, up to `LOCAL_WORKERS` at a time per function (one at a time
 * for a `serial` rule's). The indexer serialises per space itself (its leases), as it must in AWS. A failed
 * delivery is retried 3 times; after that the pending mark and the sweep are the safety net, as a DLQ would be.
 */
export const createLocalBus = (rules: readonly Rule[], dispatch: Dispatch, retryDelayMs = 100) => {
  type Lane = { queue: EventBridgeEvent<string, unknown>[]; running: number; width: number };
  const lanes = new Map<string, Lane>();
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];

  const deliver = async (fn: string, event: EventBridgeEvent<string, unknown>) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await dispatch(fn, event);
      } catch (error) {
        if (attempt >= 3) {
          logger.error('event delivery failed; left to the sweep', { fn, detailType: event['detail-type'], error: String(error) });
          return;
        }
        await new Promise((r) => setTimeout(r, retryDelayMs * attempt));
      }
    }
  };

  const settled = () => {
    if (inFlight > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const work = async (fn: string, lane: Lane) => {
    for (let next = lane.queue.shift(); next; next = lane.queue.shift()) await deliver(fn, next);
    lane.running--;
    inFlight--;
    settled();
  };

  const enqueue = (fn: string, event: EventBridgeEvent<string, unknown>) => {
    let lane = lanes.get(fn);
    if (!lane) {
      lane = { queue: [], running: 0, width: rules.some((r) => r.fn === fn && r.serial) ? 1 : LOCAL_WORKERS };
      lanes.set(fn, lane);
    }
    lane.queue.push(event);
    if (lane.running < lane.width) {
      lane.running++;
      inFlight++;
      void work(fn, lane);
    }
  };

  const bus: Bus & { idle(): Promise<void> } = {
    async put(events: readonly BusEvent[]) {
      for (const e of events) {
        const envelope: EventBridgeEvent<string, unknown> = {
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
