import * as z from 'zod';
import { IndexRow } from '../domain/model.ts';
import { logger } from '../logger.ts';
import { keys, type Key } from './keys.ts';
import type { TableOps } from './table.ts';

const RawItem = z.record(z.string(), z.unknown());

/** A row that fails its schema is never shown: it reads as absent, and is logged (by key, never its content). */
const readRow = (raw: Record<string, unknown>, audience: string): IndexRow | undefined => {
  const parsed = IndexRow.safeParse(raw);
  if (parsed.success) return parsed.data;
  const error = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 300);
  logger.warn('index row unreadable, not shown', { audience, sk: typeof raw.sk === 'string' ? raw.sk : '?', error });
  return undefined;
};

/** Every row of one audience, and apart the images of the items that fail the schema. */
const audit = async (ops: TableOps, audience: string) => {
  const { pk, skPrefix } = keys.audiencePage(audience);
  const rows: IndexRow[] = [];
  const unreadable: Pick<IndexRow, 'audience' | 'image'>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ops.queryPage({ pk, skPrefix }, startKey);
    for (const raw of page.items) {
      const row = readRow(raw, audience);
      if (row) rows.push(row);
      else if (typeof raw.sk === 'string' && raw.sk.startsWith(skPrefix)) unreadable.push({ audience, image: raw.sk.slice(skPrefix.length) });
    }
    startKey = page.next;
  } while (startKey);
  return { rows, unreadable };
};

/** The precomputed selector index: one row per (audience, image). */
export const imageIndexRepository = (ops: TableOps) => ({
  /** The row, or undefined when there is none or it is unreadable (a row that cannot be read is never shown). */
  get: async (audience: string, image: string) => {
    const raw = await ops.get(RawItem, keys.indexRow(audience, image));
    return raw ? readRow(raw, audience) : undefined;
  },
  /** Whether an item sits at the row's key, readable or not (what a withdrawal must delete). */
  has: async (audience: string, image: string) => !!(await ops.get(RawItem, keys.indexRow(audience, image))),
  /** Every readable row of one audience. */
  all: async (audience: string) => (await audit(ops, audience)).rows,
  /** Every row of one audience, and the keys of the unreadable ones (repair deletes them). */
  audit: (audience: string) => audit(ops, audience),
  write: (puts: IndexRow[], deletes: Pick<IndexRow, 'audience' | 'image'>[]) =>
    ops.batchWrite(
      puts.map((row) => ({
        ...keys.indexRow(row.audience, row.image),
        entityType: 'IndexRow',
        ...row,
      })),
      deletes.map((row): Key => keys.indexRow(row.audience, row.image)),
    ),
  /**
   * Up to `limit` rows of one audience after `after` (image), whose image contains `q`.
   * Reads on while the filter leaves a page short.
   */
  page: async (audience: string, after: string | undefined, limit: number, q?: string) => {
    const { pk, skPrefix } = keys.audiencePage(audience);
    const rows: IndexRow[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ops.queryPage(
        {
          pk,
          ...(after !== undefined ? { after: `${skPrefix}${after}` } : { skPrefix }),
          // A filtered read may drop most rows, so it reads big pages (DynamoDB caps each at 1 MB).
          limit: q ? 1000 : limit,
        },
        startKey,
      );
      for (const item of page.items) {
        const row = readRow(item, audience);
        if (row && (!q || row.image.includes(q))) rows.push(row);
        if (rows.length === limit) return rows;
      }
      startKey = page.next;
    } while (startKey);
    return rows;
  },
});
