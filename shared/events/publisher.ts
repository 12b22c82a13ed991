import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { BusEvent, EventContract } from '../../events/contract.ts';

/** Where events go: EventBridge in AWS, the in-process bus locally. Both route by the same rule table. */
export type Bus = { put(events: readonly BusEvent[]): Promise<void> };

/**
 * Builds a validated event. Use cases build it before the write, so the write can carry its
 * pending-index mark, and publish it after.
 */
export const createEvent = <T extends z.ZodType>(
  contract: EventContract<T>,
  data: z.input<T>,
  context: { correlationId: string; now: Date; id?: string },
): BusEvent => ({
  detailType: contract.detailType,
  detail: {
    metadata: {
      version: contract.version,
      id: context.id ?? randomUUID(),
      correlationId: context.correlationId,
      occurredAt: context.now.toISOString(),
    },
    data: contract.data.parse(data),
  },
});
