import { ConditionalCheckFailedException, CreateTableCommand, DeleteTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../shared/local/embedded-store.ts';
import { createDocumentClient } from '../../shared/store/table.ts';

/** The embedded store's own transport (its thread, no socket) answers exactly as the store answers over HTTP. */
describe('the embedded store through its own transport', () => {
  const TableName = 'embedded-transport';
  let store: Awaited<ReturnType<typeof startEmbeddedStore>>;
  let direct: ReturnType<typeof createDocumentClient>;
  let http: ReturnType<typeof createDocumentClient>;
  beforeAll(async () => {
    store = await startEmbeddedStore({ tableName: TableName });
    direct = store.documentClient();
    http = createDocumentClient(store.endpoint, 'local');
  });
  afterAll(async () => {
    direct.destroy();
    http.destroy();
    await store.close();
  });

  it('writes and reads the items the HTTP endpoint reads and writes, numbers and lists as they are', async () => {
    await direct.send(new PutCommand({ TableName, Item: { pk: 'P#1', sk: 'A', n: 2 ** 40, list: ['x', 'ü'], nested: { ok: true } } }));
    await http.send(new PutCommand({ TableName, Item: { pk: 'P#1', sk: 'B', n: 1 } }));
    expect((await http.send(new GetCommand({ TableName, Key: { pk: 'P#1', sk: 'A' }, ConsistentRead: true }))).Item).toEqual({ pk: 'P#1', sk: 'A', n: 2 ** 40, list: ['x', 'ü'], nested: { ok: true } });
    const both = await direct.send(new QueryCommand({ TableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'P#1' }, ConsistentRead: true }));
    expect(both.Items?.map((i) => i.sk)).toEqual(['A', 'B']);
  });

  it('leaves out the steps of the SDK a call to the thread does not need (named as the SDK names them)', () => {
    const unneeded = ['getUserAgentMiddleware', 'recursionDetectionMiddleware'];
    for (const name of unneeded) expect(http.middlewareStack.identify().join('\n')).toContain(name);
    for (const name of unneeded) expect(direct.middlewareStack.identify().join('\n')).not.toContain(name);
  });

  it('answers a failed condition as the SDK’s ConditionalCheckFailedException, and a bad request as the store’s ValidationException', async () => {
    const write = () => direct.send(new UpdateCommand({ TableName, Key: { pk: 'P#2', sk: 'A' }, UpdateExpression: 'SET v = :v', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':v': 1 } }));
    await expect(write()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(direct.send(new GetCommand({ TableName, Key: { pk: 'P#2' } }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(direct.send(new GetCommand({ TableName: 'no-such-table', Key: { pk: 'P#2', sk: 'A' } }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('follows a table deleted and created again with another key, though it keeps table descriptions between changes', async () => {
    const admin = new DynamoDBClient({ endpoint: store.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const create = async (keys: string[]) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await admin.send(new CreateTableCommand({
            TableName: 'recreated',
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: keys.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
            KeySchema: keys.map((AttributeName, i) => ({ AttributeName, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
          }));
          return await waitUntilTableExists({ client: admin, maxWaitTime: 10, minDelay: 1 }, { TableName: 'recreated' });
        } catch (error) {
          // The old one may still be going.
          if ((error as Error).name !== 'ResourceInUseException' || attempt > 50) throw error;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    try {
      await create(['pk', 'sk']);
      await direct.send(new PutCommand({ TableName: 'recreated', Item: { pk: 'a', sk: 'b' } }));
      await admin.send(new DeleteTableCommand({ TableName: 'recreated' }));
      await create(['id']);
      await direct.send(new PutCommand({ TableName: 'recreated', Item: { id: 'a' } }));
      expect((await direct.send(new GetCommand({ TableName: 'recreated', Key: { id: 'a' }, ConsistentRead: true }))).Item).toEqual({ id: 'a' });
      await expect(direct.send(new PutCommand({ TableName: 'recreated', Item: { pk: 'a', sk: 'b' } }))).rejects.toMatchObject({ name: 'ValidationException' });
    } finally {
      admin.destroy();
    }
  });

  it('keeps many requests in flight at once, each answered with its own result', async () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ pk: `P#many`, sk: String(i).padStart(3, '0'), i }));
    for (let i = 0; i < items.length; i += 25) await direct.send(new BatchWriteCommand({ RequestItems: { [TableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    const read = await Promise.all(items.map((it) => direct.send(new GetCommand({ TableName, Key: { pk: it.pk, sk: it.sk }, ConsistentRead: true }))));
    expect(read.map((r) => r.Item?.i)).toEqual(items.map((it) => it.i));
  });
});

describe('the embedded store’s transport once its thread ended', () => {
  it('fails what is asked instead of waiting for ever', async () => {
    const store = await startEmbeddedStore({ tableName: 'embedded-ended' });
    const db = store.documentClient();
    await store.close();
    await expect(db.send(new GetCommand({ TableName: 'embedded-ended', Key: { pk: 'a', sk: 'b' } }))).rejects.toThrow(/thread ended/);
    db.destroy();
  });
});
