import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { SOURCE, type BusEvent } from '../../events/contract.ts';
import { logger } from '../logger.ts';
import type { Rule } from '../topology.ts';
import type { Bus } from './publisher.ts';

export type Dispatch = (fn: string, event: EventBridgeEvent<string, unknown>) => Promise<void>;

/**
 * The in-process bus of the embedded runtime: routes by the same rule table as EventBridge and delivers
 * each matched event to its function, one at a time in arrival order (the indexer re-derives per scope,
 * so serial delivery also rules out two re-derivations of one space interleaving). A failed delivery is
 * retried 3 times; after that the pending mark and the sweep are the safety net, as a DLQ would be.
 */
export const createLocalBus = (rules: readonly Rule[], dispatch: Dispatch, retryDelayMs = 100) => {
  const queue: { fn: string; event: EventBridgeEvent<string, unknown> }[] = [];
  let draining: Promise<void> | undefined;
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

  const drain = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await deliver(next.fn, next.event);
    draining = undefined;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
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
        for (const rule of rules) if (rule.detailTypes.includes(e.detailType)) queue.push({ fn: rule.fn, event: envelope });
      }
      draining ??= drain();
    },
    /** Resolves once every queued event has been delivered. */
    idle: () => (draining ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve()),
  };
  return bus;
};
