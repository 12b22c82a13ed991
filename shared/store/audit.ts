import * as z from 'zod';
import { AuditEntry } from '../domain/audit.ts';
import { keys } from './keys.ts';
import type { TableOps } from './table.ts';

const DayMark = z.object({ sk: z.string() });

/** The day partition's mark lives as long as the latest entry that day can have: its end plus the entry's TTL. */
const markOf = (day: string, entries: readonly AuditEntry[]) => {
  const end = Math.floor(Date.parse(`${day}T23:59:59.999Z`) / 1000);
  const ttl = Math.max(...entries.map((e) => e.expiresAt - Math.floor(Date.parse(e.at) / 1000)));
  return { ...keys.auditDayMark(day), entityType: 'AuditDay', expiresAt: end + ttl };
};

const itemOf = (entry: AuditEntry) => ({ ...keys.auditEntry(entry.at, entry.id), entityType: 'AuditEntry', ...entry });

/**
 * The audit trail: one item per entry, in a partition per UTC day (see `keys.auditEntry`), and a mark per day that
 * holds entries. DynamoDB's TTL (`expiresAt`) deletes both some time after they pass; local stores never delete, so
 * readers skip expired entries themselves.
 */
export const auditRepository = (ops: TableOps) => {
  // Days this process has marked: a day's mark is written once per process, not once per entry (it would be a hot key).
  const marked = new Set<string>();
  return {
    /**
     * Writes entries, after the marks of their days (an entry is never written where a listing would not look). One
     * whose key exists is overwritten: the same event recorded again writes the same item.
     */
    put: async (entries: readonly AuditEntry[]) => {
      const days = [...new Set(entries.map((e) => e.at.slice(0, 10)))].filter((d) => !marked.has(d));
      await ops.batchWrite(days.map((d) => markOf(d, entries.filter((e) => e.at.startsWith(d)))), []);
      for (const d of days) marked.add(d);
      await ops.batchWrite(entries.map(itemOf), []);
    },

    /** The latest day before `day` (YYYY-MM-DD) that holds entries, if any. */
    dayBefore: async (day: string): Promise<string | undefined> => {
      const { items } = await ops.queryPage({ pk: keys.auditDays().pk, before: day, limit: 1, descending: true });
      return items.map((item) => DayMark.parse(item).sk)[0];
    },

    /**
     * Up to `limit` entries of `day` whose sort key is below `before` (exclusive; absent: the whole day), newest
     * first, each with its sort key (a position to continue from; `entry` undefined: an item that does not read,
     * skipped rather than failing the page); `more`: the day holds older ones.
     */
    dayPage: async (day: string, opts: { before?: string; limit: number }) => {
      const page = await ops.queryPage({ pk: keys.auditDay(day).pk, ...(opts.before !== undefined ? { before: opts.before } : {}), limit: opts.limit, descending: true });
      return { entries: page.items.map((item) => ({ sk: String(item.sk), entry: AuditEntry.safeParse(item).data })), more: page.next !== undefined };
    },
  };
};
