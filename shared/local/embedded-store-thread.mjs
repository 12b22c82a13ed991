// The embedded store's own thread (see embedded-store.ts): dynalite on a loopback port, so the DynamoDB API's
// work runs beside the service's instead of on its one event loop. Plain JavaScript: a worker loads it as it is.
// Besides the port, the service's own client hands its requests over as messages (`call`): the same request, the
// same handler (dynalite's), the same answer, without a socket and HTTP between the two threads of one process.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

/**
 * Every item request makes dynalite read and decode the table's description from LevelDB first (a 4,000-event
 * ingest probe ran at ~250 events/s with that, ~300 without). It changes only when a table is created, updated or deleted, each of which writes
 * it through `tableDb.put`/`del`: so an ACTIVE description is kept here and dropped at every write of it (a read that
 * a write overtook is not kept). Only item requests get the kept one: they call `getTable(name, cb)` and only read
 * it; table requests call `getTable(name, false, cb)`, may change what they get, and always read their own copy.
 */
const keepTableDescriptions = (store) => {
  const kept = new Map();
  let writes = 0;
  const { tableDb } = store;
  for (const method of ['put', 'del']) {
    const write = tableDb[method].bind(tableDb);
    tableDb[method] = (name, ...rest) => {
      writes++;
      kept.delete(name);
      const done = rest.pop();
      return write(name, ...rest, (...result) => {
        writes++;
        kept.delete(name);
        done?.(...result);
      });
    };
  }
  const getTable = store.getTable;
  store.getTable = (name, ...rest) => {
    if (rest.length !== 1) return getTable(name, ...rest);
    const [callback] = rest;
    const hit = kept.get(name);
    if (hit) return process.nextTick(callback, null, hit);
    const before = writes;
    getTable(name, (error, table) => {
      if (!error && table?.TableStatus === 'ACTIVE' && writes === before) kept.set(name, table);
      callback(error, table);
    });
  };
  return store;
};
// dynalite's own module of its store (the one `dynalite()` calls), so each store it creates keeps its descriptions.
const stores = createRequire(import.meta.url)('dynalite/db/index.js');
const create = stores.create;
stores.create = (options) => keepTableDescriptions(create(options));

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
  // What dynalite throws (a LevelDB failure) ends the thread, as it would its HTTP server: every waiting request fails.
  handle(req, res);
  req.emit('data', Buffer.from(body));
  req.emit('end');
};

server.listen(0, '127.0.0.1', () => parentPort?.postMessage({ port: server.address().port }));
parentPort?.on('message', (message) => {
  if (message === 'close') server.close((error) => parentPort?.postMessage({ closed: true, error: error ? String(error) : undefined }));
  else if (message?.call) call(message.call);
});
