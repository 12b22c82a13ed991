import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { BusEvent, EventContract } from '../../events/contract.ts';
import type { Deps } from '../deps.ts';
import { logger } from '../logger.ts';
import { auditEvents } from '../usecases/audit.ts';

/** Where events go: EventBridge in AWS, the in-process bus locally. Both route by the same rule table. */
export type Bus = { put(events: readonly BusEvent[]): Promise<void> };

/**
 * Builds a validated event, naming the item whose pending mark it clears. Use cases build it before the write, so
 * the write can carry its pending-index mark, and publish it after.
 */
export const createEvent = <T extends z.ZodType>(
  contract: EventContract<T>,
  data: z.input<T>,
  context: { correlationId: string; actor?: string; operator?: string; now: Date; id?: string },
): BusEvent<EventContract<T>> => {
  const parsed = contract.data.parse(data);
  const mark = contract.marked?.(parsed);
  return {
    detailType: contract.detailType,
    detail: {
      metadata: {
        version: contract.version,
        id: context.id ?? randomUUID(),
        correlationId: context.correlationId,
        ...(context.actor ? { actor: context.actor } : {}),
        ...(context.operator ? { operator: context.operator } : {}),
        occurredAt: context.now.toISOString(),
        ...(mark ? { mark: { pk: mark.pk, sk: mark.sk } } : {}),
      },
      data: parsed,
    },
  };
};

/**
 * The one way onto the bus. Throws when the bus refuses, for callers that must know (the sweep counts, an admin's
 * request answers); everything else uses `publish`.
 */
export const publishOrThrow = async (bus: Bus, events: readonly BusEvent[]) => {
  if (events.length) await bus.put(events);
};

/**
 * Publishes after the write, recording the state changes among the events in the audit trail first (so a crash
 * before the bus leaves the pending mark whose re-emission records them). A failure is logged, not thrown: the change
 * is already durable and carries its pending mark, so the sweep re-emits it.
 */
export const publish = async (deps: Pick<Deps, 'bus' | 'store' | 'clock' | 'auditTtlDays'>, ...events: readonly BusEvent[]) => {
  await auditEvents(deps, events);
  try {
    await publishOrThrow(deps.bus, events);
  } catch (error) {
    logger.error('publish failed; the sweep will re-emit', { error: String(error), detailTypes: events.map((e) => e.detailType) });
  }
};
