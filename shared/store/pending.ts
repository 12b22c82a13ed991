import * as z from 'zod';
import type { BusEvent } from '../../events/contract.ts';
import { keys, type Key } from './keys.ts';
import type { TableOps } from './table.ts';

/**
 * The pending-index mark, written in the same single-item write as the change it describes, so a change
 * is never lost if the process dies before its event is published: the sweep re-emits old marks.
 */
export const pendingMark = (event: BusEvent) => {
  const { id, occurredAt } = event.detail.metadata;
  return { pendingId: id, pendingEvent: JSON.stringify(event), ...keys.pendingMark(occurredAt, id) };
};

const PendingItem = z.object({ pk: z.string(), sk: z.string(), pendingId: z.string(), pendingEvent: z.string() });
const StoredEvent = z.object({
  detailType: z.string(),
  detail: z.object({
    metadata: z.object({ version: z.number(), id: z.string(), correlationId: z.string(), occurredAt: z.string() }),
    data: z.unknown(),
  }),
});

export const pendingRepository = (ops: TableOps) => ({
  /** Clears the mark only if it is still the one this event set (a later change keeps its own). */
  clear: (key: Key, eventId: string) =>
    ops.update(key, {
      UpdateExpression: 'REMOVE pendingId, pendingEvent, gsi2pk, gsi2sk',
      ConditionExpression: 'pendingId = :id',
      ExpressionAttributeValues: { ':id': eventId },
    }),

  /** Marks set before `olderThan` (ISO time), oldest first, with the events to re-emit. */
  olderThan: async (olderThan: string, limit = 500): Promise<{ key: Key; event: BusEvent }[]> => {
    const { items } = await ops.queryPage({ index: 'gsi2', pk: keys.allPending().gsi2pk, before: olderThan, limit });
    return items.map((raw) => {
      const item = PendingItem.parse(raw);
      return { key: { pk: item.pk, sk: item.sk }, event: StoredEvent.parse(JSON.parse(item.pendingEvent)) };
    });
  },
});
