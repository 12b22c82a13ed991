import { AsyncLocalStorage } from 'node:async_hooks';
import type { Table } from '../../shared/store/table.ts';

/** Waits `ms` milliseconds; 0 still yields to the event loop once, so a waiting handler may go first. */
const pause = (ms: number) => new Promise<void>((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));

/** A worker's run: paused at its `stallAt`-th store call until `released` resolves. */
type Run = { calls: number; stallAt?: number; released: Promise<void> };

/**
 * The run each store call belongs to. One for every table: Node's async hooks visit every AsyncLocalStorage ever
 * enabled at each promise, so one per sequence made the 1,500th sequence of a run ~10× slower than the first.
 */
const runs = new AsyncLocalStorage<Run>();

/**
 * `table` as concurrent workers meet it. Each store call (each command its document client sends) of a run started
 * by `worker` waits a delay first, taken in turn from `delays` (ms): concurrent workers then interleave at every
 * read and write. Drawn by fast-check (an infinite stream), a failing run replays its delays from the seed. With
 * `stallAt`, the run also stops at that call until `release()`, as a worker paused for long (a GC, a throttled
 * retry) while the others go on. Calls outside a worker's run (the steps, the checks) go straight through.
 */
export const jitteryTable = (table: Table, delays: Iterator<number>) => {
  // The store sends one command at a time and nothing else.
  const send = async (command: Parameters<Table['db']['send']>[0]) => {
    const run = runs.getStore();
    if (run) {
      if (++run.calls === run.stallAt) await run.released;
      await pause(delays.next().value);
    }
    return table.db.send(command);
  };
  const db = new Proxy(table.db, { get: (target, key, receiver) => (key === 'send' ? send : Reflect.get(target, key, receiver)) });
  return {
    table: { ...table, db },
    worker: <T>(work: () => Promise<T>, stallAt?: number) => {
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      return { done: runs.run({ calls: 0, stallAt, released }, work), release };
    },
  };
};

/** How a driver runs a worker's deliveries on a `jitteryTable` (see there). */
export type Worker = ReturnType<typeof jitteryTable>['worker'];
