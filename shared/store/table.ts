import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type PutCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { z } from 'zod';
import { TABLE_INDEXES, type Key } from './keys.ts';

/** The single table: a document client and its name. */
export type Table = { db: DynamoDBDocumentClient; name: string };

/** A document client; `endpoint` points at DynamoDB Local or the embedded store (`local`: its own transport). */
export const createDocumentClient = (endpoint?: string, region = process.env.AWS_REGION ?? 'us-east-1', local?: Pick<DynamoDBClientConfig, 'requestHandler' | 'signer'>) =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region,
      ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
      ...local,
    }),
    // A number past 2^53 (a hostile or corrupt item) reads as an imprecise number, never a BigInt or a throw.
    { marshallOptions: { removeUndefinedValues: true }, unmarshallOptions: { wrapNumbers: (n: string) => Number(n) } },
  );

type ItemAttributes = Record<string, unknown>;
/** An item's key as one string (to match items to keys, or find a key twice). */
export const keyText = (key: { pk?: unknown; sk?: unknown }) => `${String(key.pk)}\n${String(key.sk)}`;
type QuerySpec = {
  pk: string;
  skPrefix?: string;
  /** Exclusive bounds on the sort key; `after` with `skPrefix`: the keys with that prefix after it. */
  after?: string;
  before?: string;
  index?: keyof typeof TABLE_INDEXES;
  limit?: number;
  /** Sort key descending (newest first, where it is a time). */
  descending?: true;
};

/** Entity-agnostic reads and writes; the repositories own keys and schemas. */
export const tableOps = ({ db, name }: Table) => {
  const get = async <T extends z.ZodType>(schema: T, key: Key): Promise<z.infer<T> | undefined> => {
    const { Item } = await db.send(new GetCommand({ TableName: name, Key: key, ConsistentRead: true }));
    return Item ? schema.parse(Item) : undefined;
  };

  /** Runs a write; returns false when its condition did not hold. */
  const conditional = async (run: () => Promise<unknown>): Promise<boolean> => {
    try {
      await run();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  };

  const put = (item: ItemAttributes, condition?: Omit<PutCommandInput, 'TableName' | 'Item'>) =>
    conditional(() => db.send(new PutCommand({ TableName: name, Item: item, ...condition })));

  const update = (key: Key, input: Omit<UpdateCommandInput, 'TableName' | 'Key'>) =>
    conditional(() => db.send(new UpdateCommand({ TableName: name, Key: key, ...input })));

  /** An update that answers the item as it was before (`{}` when there was none), or false when its condition did not hold. */
  const updateReturningOld = async (key: Key, input: Omit<UpdateCommandInput, 'TableName' | 'Key' | 'ReturnValues'>) => {
    try {
      const out = await db.send(new UpdateCommand({ TableName: name, Key: key, ...input, ReturnValues: 'ALL_OLD' }));
      return out.Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  };

  const remove = (key: Key, condition?: { ConditionExpression: string; ExpressionAttributeValues?: ItemAttributes; ExpressionAttributeNames?: Record<string, string> }) =>
    conditional(() => db.send(new DeleteCommand({ TableName: name, Key: key, ...condition })));

  /**
   * Adds 1 to a number attribute of an existing item (absent counts as 0) and sets `also`; returns the new value,
   * or undefined when the item does not exist.
   */
  const increment = async (key: Key, attribute: string, also: ItemAttributes = {}): Promise<number | undefined> => {
    const names: Record<string, string> = { '#n': attribute };
    const values: ItemAttributes = { ':zero': 0, ':one': 1 };
    const sets = Object.entries(also).map(([k, v], i) => ((names[`#a${i}`] = k), (values[`:a${i}`] = v), `#a${i} = :a${i}`));
    try {
      const out = await db.send(
        new UpdateCommand({
          TableName: name,
          Key: key,
          UpdateExpression: `SET ${['#n = if_not_exists(#n, :zero) + :one', ...sets].join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const value = out.Attributes?.[attribute];
      return typeof value === 'number' ? value : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  };

  /**
   * One page of a Query; `after` is an exclusive lower bound on the sort key. `count`: DynamoDB counts the matches
   * (`Select: COUNT`) and returns no item.
   */
  const queryPage = async (spec: QuerySpec & { filter?: { expression: string; values: ItemAttributes }; count?: true }, startKey?: ItemAttributes) => {
    const index = spec.index ? TABLE_INDEXES[spec.index] : undefined;
    const pkName = index?.pk ?? 'pk';
    const skName = index?.sk ?? 'sk';
    // Past the prefix's last key: nothing (DynamoDB refuses a BETWEEN whose bounds are reversed).
    if (spec.after !== undefined && spec.skPrefix !== undefined && spec.after >= `${spec.skPrefix}\uffff`) return { items: [], next: undefined, count: 0 };
    const conditions = ['#pk = :pk'];
    const values: ItemAttributes = { ':pk': spec.pk, ...spec.filter?.values };
    if (spec.after !== undefined && spec.skPrefix !== undefined) {
      // One condition per sort key: BETWEEN (inclusive) from the later of both bounds to the prefix's end (keys
      // are ASCII here), and the item at `after` itself dropped below.
      conditions.push('#sk BETWEEN :from AND :to');
      values[':from'] = spec.after > spec.skPrefix ? spec.after : spec.skPrefix;
      values[':to'] = `${spec.skPrefix}\uffff`;
    } else if (spec.after !== undefined) {
      conditions.push('#sk > :after');
      values[':after'] = spec.after;
    } else if (spec.before !== undefined) {
      conditions.push('#sk < :before');
      values[':before'] = spec.before;
    } else if (spec.skPrefix !== undefined) {
      conditions.push('begins_with(#sk, :prefix)');
      values[':prefix'] = spec.skPrefix;
    }
    const out = await db.send(
      new QueryCommand({
        TableName: name,
        IndexName: index?.name,
        KeyConditionExpression: conditions.join(' AND '),
        FilterExpression: spec.filter?.expression,
        ExpressionAttributeNames: { '#pk': pkName, ...(conditions.length > 1 ? { '#sk': skName } : {}) },
        ExpressionAttributeValues: values,
        ExclusiveStartKey: startKey,
        Limit: spec.limit,
        Select: spec.count ? 'COUNT' : undefined,
        ScanIndexForward: spec.descending ? false : undefined,
        ConsistentRead: index ? undefined : true,
      }),
    );
    const items = out.Items ?? [];
    return { items: spec.after !== undefined && spec.skPrefix !== undefined ? items.filter((i) => i[skName] !== spec.after) : items, next: out.LastEvaluatedKey, count: out.Count ?? 0 };
  };

  /** Every item of a Query, parsed. */
  const queryAll = async <T extends z.ZodType>(schema: T, spec: QuerySpec): Promise<z.infer<T>[]> => {
    const all: z.infer<T>[] = [];
    let startKey: ItemAttributes | undefined;
    do {
      const page = await queryPage(spec, startKey);
      for (const item of page.items) all.push(schema.parse(item));
      startKey = page.next;
    } while (startKey);
    return all;
  };

  type WriteRequest = { PutRequest: { Item: ItemAttributes } } | { DeleteRequest: { Key: Key } };
  /** Sends `requests` in batches of 25, in their order (a later one never in an earlier batch), retrying unprocessed items. */
  const writeNow = async (requests: readonly WriteRequest[]) => {
    for (let i = 0; i < requests.length; i += 25) {
      let pending: WriteRequest[] | undefined = requests.slice(i, i + 25);
      for (let attempt = 0; pending?.length; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await db.send(new BatchWriteCommand({ RequestItems: { [name]: pending } }));
        pending = out.UnprocessedItems?.[name] as WriteRequest[] | undefined;
      }
    }
  };

  type Writer = { requests: WriteRequest[]; done: (written: Promise<void>) => void };
  let writers: Writer[] | undefined;
  const keyOf = (r: WriteRequest) => keyText('PutRequest' in r ? r.PutRequest.Item : r.DeleteRequest.Key);
  const samePut = (a: WriteRequest | undefined, b: WriteRequest) => !!a && 'PutRequest' in a && 'PutRequest' in b && JSON.stringify(a.PutRequest.Item) === JSON.stringify(b.PutRequest.Item);
  /**
   * The writers of one turn in as few groups as their keys allow, in the order they asked: a writer joins the last
   * group unless a key of its own is also one of that group's (but for the same put, a host's item or a space's
   * posting, which the group writes once); else it starts the next. Groups are written one after the other, so of
   * two writers whose keys meet the later one is written later, and each writer's requests keep their order.
   */
  const groupsOf = (batch: readonly Writer[]) => {
    const groups: { writers: Writer[]; requests: WriteRequest[]; byKey: Map<string, WriteRequest> }[] = [];
    for (const writer of batch) {
      const own = writer.requests.map((request) => ({ request, key: keyOf(request) }));
      const last = groups.at(-1);
      let group = last && own.every(({ request, key }) => !last.byKey.has(key) || samePut(last.byKey.get(key), request)) ? last : undefined;
      if (!group) groups.push((group = { writers: [], requests: [], byKey: new Map() }));
      group.writers.push(writer);
      // A key another writer of the group put already is left out; the writer's own repeated keys go as it asked.
      const mine = new Set<string>();
      for (const { request, key } of own) {
        if (mine.has(key) || !group.byKey.has(key)) group.requests.push(request);
        mine.add(key);
        group.byKey.set(key, request);
      }
    }
    return groups;
  };
  const flushWrites = async (batch: readonly Writer[]) => {
    let groups: ReturnType<typeof groupsOf>;
    try {
      groups = groupsOf(batch);
    } catch (error) {
      // Never a writer left waiting.
      for (const w of batch) w.done(Promise.reject(error));
      return;
    }
    for (const group of groups) {
      try {
        await writeNow(group.requests);
        for (const w of group.writers) w.done(Promise.resolve());
      } catch (error) {
        if (group.writers.length === 1) {
          group.writers[0]?.done(Promise.reject(error));
          continue;
        }
        // One bad item fails only its own writer: each is written again on its own, in turn, before the next group.
        for (const w of group.writers) {
          const written = writeNow(w.requests);
          w.done(written);
          await written.catch(() => undefined);
        }
      }
    }
  };

  /**
   * Puts and deletes (no key twice), in batches of 25, in their order, unprocessed items retried. The writes asked
   * for in one turn of the event loop go out together (the rows and postings of the repositories one batch
   * re-derives at once are a few requests, not one or two each); each caller's requests keep their order, and a
   * call resolves once all of its own were written.
   */
  const batchWrite = (puts: ItemAttributes[], deletes: Key[]): Promise<void> => {
    const requests: WriteRequest[] = [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))];
    if (!requests.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (!writers) {
        const batch: Writer[] = [];
        writers = batch;
        setImmediate(() => {
          writers = undefined;
          void flushWrites(batch);
        });
      }
      writers.push({ requests, done: (written) => void written.then(resolve, reject) });
    });
  };

  /**
   * The items at `keys` (distinct), read consistently 100 a request, unprocessed keys retried; absent items are left
   * out and the order is not kept (match them by key).
   */
  const batchGet = async (keys: Key[]): Promise<ItemAttributes[]> => {
    const items: ItemAttributes[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Key[] | undefined = keys.slice(i, i + 100);
      for (let attempt = 0; pending?.length; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await db.send(new BatchGetCommand({ RequestItems: { [name]: { Keys: pending, ConsistentRead: true } } }));
        items.push(...(out.Responses?.[name] ?? []));
        pending = out.UnprocessedKeys?.[name]?.Keys as Key[] | undefined;
      }
    }
    return items;
  };

  return { get, put, update, updateReturningOld, increment, remove, queryPage, queryAll, batchWrite, batchGet };
};
export type TableOps = ReturnType<typeof tableOps>;
