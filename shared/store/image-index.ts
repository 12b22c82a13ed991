import { IndexRow } from '../domain/model.ts';
import { keys, type Key } from './keys.ts';
import type { TableOps } from './table.ts';

/** The precomputed selector index: one row per (audience, image). */
export const imageIndexRepository = (ops: TableOps) => ({
  get: (audience: string, image: string) => ops.get(IndexRow, keys.indexRow(audience, image)),
  /** Every row of one audience (repair). */
  all: (audience: string) => ops.queryAll(IndexRow, keys.audiencePage(audience)),
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
        const row = IndexRow.parse(item);
        if (!q || row.image.includes(q)) rows.push(row);
        if (rows.length === limit) return rows;
      }
      startKey = page.next;
    } while (startKey);
    return rows;
  },
});
