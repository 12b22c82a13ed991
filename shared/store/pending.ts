import * as z from 'zod';
import { EventMetadata, type BusEvent } from '../../events/contract.ts';
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
    metadata: EventMetadata,
    data: z.unknown(),
  }),
});

/**
 * The marks the indexer clears: every mark but a pull grant's (its robot's sync, which a Harbor that is down keeps
 * waiting for hours, says nothing about the index).
 */
const INDEX_MARKS = { expression: 'pk <> :grants', values: { ':grants': keys.allPullGrants().pk } };

const MarkKey = z.object({ gsi2sk: z.string().regex(/^[^#]+#.+$/), pendingEvent: z.unknown() });
const DetailType = z.object({ detailType: z.string() });

/**
 * A mark's time and event id from its GSI2 key, the event's type when it reads: every selector answer reads the
 * oldest mark, so an unreadable event there must not fail them.
 */
const oldestOf = (raw: Record<string, unknown>) => {
  const { gsi2sk, pendingEvent } = MarkKey.parse(raw);
  const split = gsi2sk.indexOf('#');
  let detailType = 'unreadable';
  try {
    detailType = DetailType.parse(JSON.parse(String(pendingEvent))).detailType;
  } catch {
    // Its time still bounds `asOf`.
  }
  return { at: gsi2sk.slice(0, split), eventId: gsi2sk.slice(split + 1), detailType };
};

/** After a first page of one mark (the oldest is almost never a pull grant's), the next pages read this many. */
const OLDEST_PAGE = 25;

/** How long one read of the oldest mark dates the selector's answers in a process (`asOfBound`). */
export const AS_OF_REUSE_MS = 1000;

type Oldest = { at: string; eventId: string; detailType: string };

export const pendingRepository = (ops: TableOps) => {
  /**
   * The oldest change the indexer has not applied yet (GSI2, so eventually consistent: a mark of the last moments
   * may not show), or undefined when none waits.
   */
  const oldest = async (): Promise<Oldest | undefined> => {
    let startKey: Record<string, unknown> | undefined;
    for (let limit = 1; ; limit = OLDEST_PAGE) {
      const page = await ops.queryPage({ index: 'gsi2', pk: keys.allPending().gsi2pk, limit, filter: INDEX_MARKS }, startKey);
      const [raw] = page.items;
      if (raw) return oldestOf(raw);
      if (!page.next) return undefined;
      startKey = page.next;
    }
  };
  /** The last read of the oldest mark in this process, with the time it was asked for. */
  let last: { at: number; read: Promise<Oldest | undefined> } | undefined;
  return {
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

    oldest,

    /**
     * A time before which every change is applied (the selector's `asOf`, at `now`): the oldest mark's time, or the
     * time of the read when none waited. One read serves a process for `AS_OF_REUSE_MS` (shared while in flight):
     * a selector page costs no Query of the one GSI2 key then (0.5 RRU in AWS; on LevelDB a range that every
     * cleared mark leaves a tombstone in). Never later than the truth's bound, only older: a change made after the
     * read is after its time, and a mark cleared since only makes the bound older than it had to be.
     */
    asOfBound: async (now: Date): Promise<string> => {
      const at = now.getTime();
      if (!last || at - last.at >= AS_OF_REUSE_MS || at < last.at) {
        const read = oldest();
        last = { at, read };
        // A failed read is not reused.
        read.catch(() => void (last?.read === read && (last = undefined)));
      }
      const readAt = new Date(last.at).toISOString();
      const found = await last.read;
      return found && found.at < readAt ? found.at : readAt;
    },

    /** How many changes wait for the indexer, counted by DynamoDB up to `max` (`atLeast`: more may wait). */
    count: async (max = 1000): Promise<{ count: number; atLeast: boolean }> => {
      let count = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        // A page evaluates at most what is left to count, so the count never passes `max`.
        const page = await ops.queryPage({ index: 'gsi2', pk: keys.allPending().gsi2pk, limit: max - count, filter: INDEX_MARKS, count: true }, startKey);
        count += page.count;
        startKey = page.next;
      } while (startKey && count < max);
      return { count, atLeast: startKey !== undefined };
    },
  };
};
