import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { HttpRequest, HttpResponse, RequestHandler } from '@smithy/types';
import { logger } from '../logger.ts';
import { ensureTable } from '../store/schema.ts';
import { createDocumentClient } from '../store/table.ts';

type Answer = { id: number; statusCode: number; headers: Record<string, string>; body: string };
type FromThread = { port?: number; closed?: boolean; error?: string; answer?: Answer };

/** The next message of the store's thread that `wanted` accepts, or its failure (it died, or exited before answering). */
const nextMessage = (worker: Worker, wanted: (m: FromThread) => boolean) =>
  new Promise<FromThread>((resolve, reject) => {
    const exited = (code: number) => (settle(), reject(new Error(`the embedded store's thread exited (${code})`)));
    const failed = (error: Error) => (settle(), reject(error));
    const message = (m: FromThread) => void (wanted(m) && (settle(), resolve(m)));
    const settle = () => (worker.off('message', message), worker.off('error', failed), worker.off('exit', exited));
    worker.on('message', message);
    worker.once('error', failed);
    worker.once('exit', exited);
  });

/**
 * The store's thread takes a request as a message and answers it from dynalite's own HTTP handler: the SDK builds,
 * reads and checks every request and answer as it does over HTTP; only the socket between the two threads of this
 * process is gone, and the signature (the store checks its form, never its value) is a fixed one: HTTP and SigV4
 * were about a quarter of the service thread's work at full ingest (a CPU profile; docs/scale.md).
 */
const threadTransport = (worker: Worker) => {
  let next = 0;
  let ended = false;
  const waiting = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  worker.on('message', (m: FromThread) => {
    if (!m.answer) return;
    waiting.get(m.answer.id)?.resolve(m.answer);
    waiting.delete(m.answer.id);
  });
  // A thread that ended answers nothing more: what waits fails, as a dropped connection would.
  const gone = () => new Error("the embedded store's thread ended");
  worker.once('exit', () => {
    ended = true;
    for (const w of waiting.values()) w.reject(gone());
    waiting.clear();
  });
  const handler: RequestHandler<HttpRequest, HttpResponse> & { httpHandlerConfigs(): object; updateHttpClientConfig(): void } = {
    handle: (request: HttpRequest) =>
      new Promise<{ response: HttpResponse }>((resolve, reject) => {
        if (ended) return reject(gone());
        const id = next++;
        waiting.set(id, { resolve: (a) => resolve({ response: { statusCode: a.statusCode, headers: a.headers, body: Buffer.from(a.body) } }), reject });
        // A JSON body is a string or bytes (copied as plain bytes: the SDK's own byte type warns when read as a string).
        const body: unknown = request.body;
        const bytes = body instanceof Uint8Array ? new Uint8Array(body) : String(body ?? '');
        try {
          worker.postMessage({ call: { id, headers: request.headers, body: bytes } });
        } catch (error) {
          waiting.delete(id);
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      }),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  const signer = {
    sign: async (request: HttpRequest) => {
      request.headers.authorization = 'AWS4-HMAC-SHA256 Credential=local/20000101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0';
      request.headers['x-amz-date'] = '20000101T000000Z';
      return request;
    },
  };
  return { handler, signer };
};

/** The SDK's steps a call to the embedded store's thread goes without (by their names in the client's stack). */
const UNNEEDED_MIDDLEWARE = ['getUserAgentMiddleware', 'recursionDetectionMiddleware'];

/**
 * The embedded DynamoDB-compatible store (dynalite: the DynamoDB API over LevelDB) in a thread of its own, on a
 * loopback port: the store's work and the service's run on two cores. With `path` it persists there; without, it
 * lives in memory. `documentClient()`: a client of this process that reaches the thread without the port.
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
    const { port } = await nextMessage(worker, (m) => m.port !== undefined);
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await ensureTable(client, opts.tableName).finally(() => client.destroy());
    const transport = threadTransport(worker);
    return {
      endpoint,
      documentClient: () => {
        const db = createDocumentClient(endpoint, 'local', { requestHandler: transport.handler, signer: transport.signer });
        // What a call to this thread does not need: a user agent built and escaped for every call, a trace header
        // from a Lambda's environment (an 8,000-event ingest probe: ~287 → ~303 events/s without them).
        for (const name of UNNEEDED_MIDDLEWARE) db.middlewareStack.remove(name);
        return db;
      },
      close: async () => {
        const closed = Promise.race([nextMessage(worker, (m) => !!m.closed), ended.then(() => ({ error: undefined }))]);
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
