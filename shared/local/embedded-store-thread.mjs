// The embedded store's own thread (see embedded-store.ts): dynalite on a loopback port, so the DynamoDB API's
// work runs beside the service's instead of on its one event loop. Plain JavaScript: a worker loads it as it is.
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

const server = dynalite({ ...(workerData.path ? { path: workerData.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => parentPort?.postMessage({ port: server.address().port }));
parentPort?.on('message', (message) => {
  if (message === 'close') server.close((error) => parentPort?.postMessage({ closed: true, error: error ? String(error) : undefined }));
});
