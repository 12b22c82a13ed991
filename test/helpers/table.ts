import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createStore } from '../../shared/store/index.ts';
import { ensureTable } from '../../shared/store/schema.ts';
import { createDocumentClient, type Table } from '../../shared/store/table.ts';

/**
 * A fresh table (unique name) on a real DynamoDB API endpoint; `drop` deletes it. `documentClient`: how the store
 * reaches it (default: over HTTP), e.g. the embedded store's own transport, as the runtime does.
 */
export const createTestTable = async (endpoint: string, documentClient = () => createDocumentClient(endpoint, 'local')) => {
  const name = `t-${randomBytes(6).toString('hex')}`;
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await ensureTable(client, name);
  const table: Table = { db: documentClient(), name };
  return {
    table,
    store: createStore(table),
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: name }));
      client.destroy();
      table.db.destroy();
    },
  };
};
