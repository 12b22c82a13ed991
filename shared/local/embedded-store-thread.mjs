// The embedded store's own thread (see embedded-store.ts): dynalite on a loopback port, so the DynamoDB API's
// work runs beside the service's instead of on its one event loop. Plain JavaScript: a worker loads it as it is.
// Besides the port, the service's own client hands its requests over as messages (`call`): the same request, the
// same handler (dynalite's), the same answer, without a socket and HTTP between the two threads of one process.
import { EventEmitter } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

const server = dynalite({ ...(workerData.path ? { path: workerData.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const [handle] = server.listeners('request');

/** One request through dynalite's own handler: a request that only emits its body, a response that only collects. */
const call = ({ id, headers, body }) => {
  const req = Object.assign(new EventEmitter(), { method: 'POST', url: '/', headers });
  const res = {
    statusCode: 200,
    headers: {},
    setHeader(name, value) {
      this.headers[name.toLowerCase()] = String(value);
    },
    end(out) {
      parentPort?.postMessage({ answer: { id, statusCode: this.statusCode, headers: this.headers, body: out ?? '' } });
    },
  };
  handle(req, res);
  req.emit('data', Buffer.from(body));
  req.emit('end');
};

server.listen(0, '127.0.0.1', () => parentPort?.postMessage({ port: server.address().port }));
parentPort?.on('message', (message) => {
  if (message === 'close') server.close((error) => parentPort?.postMessage({ closed: true, error: error ? String(error) : undefined }));
  else if (message?.call) call(message.call);
});
