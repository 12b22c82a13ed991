import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tableOps } from '../../shared/store/table.ts';
import { createTestTable } from '../helpers/table.ts';

type Table = Awaited<ReturnType<typeof createTestTable>>;

/** An attribute as the client's middleware sees it: plain at `initialize`, or marshalled. */
type Attribute = string | { S?: string } | undefined;
type Request = { PutRequest?: { Item: Record<string, Attribute> }; DeleteRequest?: { Key: Record<string, Attribute> } };

/** The BatchWriteItem requests the table's client sends from now on, each as the list of its keys (`put`/`del` pk sk). */
const recordWrites = (t: Table) => {
  const requests: string[][] = [];
  const value = (a: Attribute) => (typeof a === 'string' ? a : (a?.S ?? '?'));
  const text = (key: Record<string, Attribute>) => `${value(key.pk)} ${value(key.sk)}`;
  t.table.db.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'BatchWriteItemCommand') {
        const items = Object.values((args.input as { RequestItems: Record<string, Request[]> }).RequestItems).flat();
        requests.push(items.map((r) => (r.PutRequest ? `put ${text(r.PutRequest.Item)}` : `del ${text(r.DeleteRequest?.Key ?? {})}`)));
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordWrites' },
  );
  return requests;
};

/** Batch writes asked for in one turn of the event loop go out together, as their keys allow, on DynamoDB Local. */
describe('batch writes of one turn', () => {
  let t: Table;
  let ops: ReturnType<typeof tableOps>;
  let requests: string[][];
  const item = async (pk: string, sk: string) => (await t.table.db.send(new GetCommand({ TableName: t.table.name, Key: { pk, sk }, ConsistentRead: true }))).Item;

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    ops = tableOps(t.table);
    requests = recordWrites(t);
  });
  afterAll(() => t.drop());

  it('are one request for writers whose keys differ, the same put asked twice written once', async () => {
    requests.length = 0;
    await Promise.all([
      ops.batchWrite([{ pk: 'A', sk: '1', v: 1 }, { pk: 'H', sk: 'host' }], []),
      ops.batchWrite([{ pk: 'B', sk: '1', v: 2 }, { pk: 'H', sk: 'host' }], []),
      ops.batchWrite([], [{ pk: 'C', sk: '1' }]),
    ]);
    expect(requests).toEqual([['put A 1', 'put H host', 'put B 1', 'del C 1']]);
    expect(await item('B', '1')).toEqual({ pk: 'B', sk: '1', v: 2 });
  });

  it('keep each writer’s order across requests of 25, and the writers’ order where their keys meet', async () => {
    requests.length = 0;
    const many = Array.from({ length: 30 }, (_, i) => ({ pk: 'ORDER', sk: String(i).padStart(2, '0') }));
    await Promise.all([
      ops.batchWrite(many, []),
      ops.batchWrite([{ pk: 'X', sk: '1', v: 1 }], []),
      ops.batchWrite([], [{ pk: 'X', sk: '1' }]),
      ops.batchWrite([{ pk: 'X', sk: '1', v: 3 }], []),
    ]);
    // The first two share requests (a later item never in an earlier one); the delete and the last put of X follow, each in turn.
    expect(requests).toEqual([[...many.slice(0, 25).map((i) => `put ORDER ${i.sk}`)], [...many.slice(25).map((i) => `put ORDER ${i.sk}`), 'put X 1'], ['del X 1'], ['put X 1']]);
    expect(await item('X', '1')).toEqual({ pk: 'X', sk: '1', v: 3 });
    const ordered = await t.table.db.send(new QueryCommand({ TableName: t.table.name, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'ORDER' }, ConsistentRead: true }));
    expect(ordered.Count).toBe(30);
  });

  it('write a later writer after an earlier one whose keys it meets, even when a writer between them fits an earlier request', async () => {
    requests.length = 0;
    await Promise.all([
      ops.batchWrite([{ pk: 'Y', sk: '1', v: 'first' }], []),
      ops.batchWrite([{ pk: 'Y', sk: '1', v: 'second' }], [{ pk: 'K', sk: '1' }]),
      ops.batchWrite([{ pk: 'K', sk: '1', v: 'new' }], []),
    ]);
    // The third meets the second (K): it goes after it, though it would fit beside the first.
    expect(requests).toEqual([['put Y 1'], ['put Y 1', 'del K 1'], ['put K 1']]);
    expect(await item('K', '1')).toEqual({ pk: 'K', sk: '1', v: 'new' });
    expect(await item('Y', '1')).toEqual({ pk: 'Y', sk: '1', v: 'second' });
  });

  it('write the writers of a failed request again one by one before the writers after them', async () => {
    const tooLarge = { pk: 'BIG', sk: '2', blob: 'x'.repeat(410 * 1024) };
    // The put of Z is slow to answer: the delete asked for after it must still wait for it.
    t.table.db.middlewareStack.add(
      (next, context) => async (args) => {
        const slow = context.commandName === 'BatchWriteItemCommand' && JSON.stringify(args.input).includes('"pk":"Z"');
        if (slow && JSON.stringify(args.input).includes('PutRequest')) await new Promise((r) => setTimeout(r, 150));
        return next(args);
      },
      { step: 'initialize', name: 'slowPutOfZ' },
    );
    try {
      const [bad, put, del] = await Promise.allSettled([
        ops.batchWrite([tooLarge], []),
        ops.batchWrite([{ pk: 'Z', sk: '1', v: 1 }], []),
        ops.batchWrite([], [{ pk: 'Z', sk: '1' }]),
      ]);
      expect([bad.status, put.status, del.status]).toEqual(['rejected', 'fulfilled', 'fulfilled']);
      // The delete, asked for last, is written last: after the put it follows was written again.
      expect(await item('Z', '1')).toBeUndefined();
    } finally {
      t.table.db.middlewareStack.remove('slowPutOfZ');
    }
  });

  it('fail only the writer whose item the store refuses; the others are written', async () => {
    const tooLarge = { pk: 'BIG', sk: '1', blob: 'x'.repeat(410 * 1024) };
    const [bad, good] = await Promise.allSettled([ops.batchWrite([tooLarge], []), ops.batchWrite([{ pk: 'GOOD', sk: '1' }], [])]);
    expect(bad.status).toBe('rejected');
    expect(good.status).toBe('fulfilled');
    expect(await item('GOOD', '1')).toEqual({ pk: 'GOOD', sk: '1' });
    expect(await item('BIG', '1')).toBeUndefined();
  });
});
