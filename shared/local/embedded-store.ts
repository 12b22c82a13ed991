import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../store/schema.ts';

/**
 * The embedded DynamoDB-compatible store (dynalite: the DynamoDB API over LevelDB, in process), on a
 * loopback port. With `path` it persists there; without, it lives in memory.
 */
export const startEmbeddedStore = async (opts: { path?: string; tableName: string }) => {
  if (opts.path) mkdirSync(opts.path, { recursive: true });
  const server = dynalite({ ...(opts.path ? { path: opts.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await ensureTable(client, opts.tableName);
  client.destroy();
  return {
    endpoint,
    close: () => new Promise<void>((resolve, reject) => server.close((e?: Error) => (e ? reject(e) : resolve()))),
  };
};
