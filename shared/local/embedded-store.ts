import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { logger } from '../logger.ts';
import { ensureTable } from '../store/schema.ts';

type FromThread = { port?: number; closed?: boolean; error?: string };

/** The next message of the store's thread, or its failure (it died, or exited before answering). */
const nextMessage = (worker: Worker) =>
  new Promise<FromThread>((resolve, reject) => {
    const exited = (code: number) => reject(new Error(`the embedded store's thread exited (${code})`));
    const failed = (error: Error) => reject(error);
    const settle = () => (worker.off('error', failed), worker.off('exit', exited));
    worker.once('message', (m: FromThread) => (settle(), resolve(m)));
    worker.once('error', failed);
    worker.once('exit', exited);
  });

/**
 * The embedded DynamoDB-compatible store (dynalite: the DynamoDB API over LevelDB) in a thread of its own, on a
 * loopback port: the store's work and the service's run on two cores. With `path` it persists there; without, it
 * lives in memory.
 */
export const startEmbeddedStore = async (opts: { path?: string; tableName: string }) => {
  if (opts.path) mkdirSync(opts.path, { recursive: true });
  const worker = new Worker(new URL('./embedded-store-thread.mjs', import.meta.url), { workerData: { path: opts.path } });
  // The thread's lifetime: a failure after start is logged (never an unhandled 'error'), and close() knows it ended.
  const ended = new Promise<void>((resolve) => {
    worker.on('error', (error) => logger.error("the embedded store's thread failed", { error: String(error) }));
    worker.once('exit', () => resolve());
  });
  try {
    const { port } = await nextMessage(worker);
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await ensureTable(client, opts.tableName).finally(() => client.destroy());
    return {
      endpoint,
      close: async () => {
        const closed = Promise.race([nextMessage(worker), ended.then(() => ({ error: undefined }))]);
        worker.postMessage('close');
        const { error } = await closed;
        await worker.terminate();
        if (error) throw new Error(error);
      },
    };
  } catch (error) {
    await worker.terminate();
    throw error;
  }
};
