import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../shared/deps.ts';
import { signJwt } from '../shared/local/jwt.ts';
import { startRuntime, type Runtime } from '../shared/local/runtime.ts';
import { logger } from '../shared/logger.ts';
import { mapLimit } from '../shared/registries/pool.ts';
import { provideDeps } from '../shared/runtime.ts';
import { createStore } from '../shared/store/index.ts';
import { reconcileRegistry } from '../shared/usecases/reconcile.ts';
import { ensureTable } from '../shared/store/schema.ts';
import type { ListedRepository, RegistryApi, RegistryListing } from '../shared/registries/registry-api.ts';
import { createDocumentClient } from '../shared/store/table.ts';
import { agreeableRegistryApi } from '../test/helpers/deps.ts';
import { startDynamoDbLocal } from '../test/helpers/dynamodb-local.ts';
import { percentile, timed } from './stats.ts';

/** Webhook requests in flight while seeding: one lane per registry, as a platform's registries do not wait for each other. */
const LANES = 4;
const SPACES_PER_REGISTRY = 5;
const BATCH = 100;
/** The few images a rare search finds (one each); every other repository is `app-xxxxx`, what a common search finds. */
const RARE = ['kiwi', 'lime', 'plum'];
const RARE_QUERY = 'plum';
const COMMON_QUERY = 'app';
const SELECTABLE_TIMEOUT_MS = 30 * 60_000;
/** The AWS-shaped path runs sizes up to this: DynamoDB Local serves ~700 calls/s here (~95 events/s), so 20,000 would take 4 minutes more. */
const AWS_MAX = 2000;

const pad = (n: number) => String(n).padStart(5, '0');
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const hostOf = (lane: number) => `127.0.0.${lane + 1}:9`;
const pathOf = (i: number) => `team-${i % (LANES * SPACES_PER_REGISTRY)}/${i < RARE.length ? `rare-${RARE[i]}` : `app-${pad(i)}`}`;
const imageOf = (i: number) => `${hostOf(i % LANES)}/${pathOf(i)}`;
const pushEvent = (id: string, path: string, n: number) => ({
  id,
  timestamp: new Date(1_760_000_000_000 + n).toISOString(),
  action: 'push',
  target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest(n), repository: path, tag: '1.0' },
});

type Samples = { p50: number; p99: number };
const stats = (samples: readonly number[]): Samples => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};
const ms = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0));
const pair = (s: Samples) => `${ms(s.p50)} / ${ms(s.p99)} ms`;

/** One HTTP session against a runtime: an admin, a reader of namespace `bench/shop` (workspace team-a), 4 Docker Registries. */
const session = async (rt: Runtime) => {
  const admin = signJwt({ sub: 'bench', roles: ['platform-admin'] }, rt.jwtSecret);
  const reader = signJwt({ sub: 'reader', workspaces: ['team-a'] }, rt.jwtSecret);
  const call = async (method: string, path: string, body?: unknown, authorization: string | null = `Bearer ${admin}`) => {
    const res = await fetch(`${rt.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const api = async (method: string, path: string, body?: unknown, authorization?: string | null) => {
    const res = await call(method, path, body, authorization);
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const registries: { id: string; secret: string }[] = [];
  for (let lane = 0; lane < LANES; lane++) {
    const r = (await api('POST', '/api/v1/registries', { name: `dr${lane}`, kind: 'docker-registry', mode: 'integrated', url: `http://${hostOf(lane)}` })) as { id: string; webhook: { secret: string } };
    registries.push({ id: r.id, secret: r.webhook.secret });
  }
  await api('PUT', '/api/v1/workspaces/team-a', {});
  await api('PUT', '/api/v1/clusters/bench/namespaces/shop', { workspaceId: 'team-a' });
  const selector = `/api/v1/clusters/bench/namespaces/shop`;
  return {
    /** One distribution notification envelope to registry `lane`; resolves once the webhook answered (stored). */
    deliver: (lane: number, events: unknown[]) => {
      const r = registries[lane] as { id: string; secret: string };
      return api('POST', `/webhooks/distribution/${r.id}`, { events }, `Bearer ${r.secret}`);
    },
    registryIds: registries.map((r) => r.id),
    read: (path: string) => api('GET', `${selector}${path}`, undefined, `Bearer ${reader}`),
    /** The status of one reader GET (a push is selectable once its tags answer 200). */
    status: async (path: string) => (await call('GET', `${selector}${path}`, undefined, `Bearer ${reader}`)).status,
  };
};
type Session = Awaited<ReturnType<typeof session>>;

/** Every page of the selector (100 a page): how many images and the cursors handed out. */
const listAll = async (s: Session) => {
  const cursors: string[] = [];
  let seen = 0;
  for (let cursor: string | null = null; ; ) {
    const page = (await s.read(`/images?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)) as { items: unknown[]; nextCursor: string | null };
    seen += page.items.length;
    if (!page.nextCursor) return { seen, cursors };
    cursors.push((cursor = page.nextCursor));
  }
};

/**
 * Seeds `n` public repositories (one tag each) through the distribution webhook, one lane per registry, each 100 of
 * them split over the lanes (25 events a request with 4); then waits until the selector lists all of them. Times
 * from the first request.
 */
const seed = async (s: Session, n: number, idle: () => Promise<void>) => {
  const t0 = performance.now();
  const batches = Array.from({ length: Math.ceil(n / BATCH) }, (_, b) => Array.from({ length: Math.min(BATCH, n - b * BATCH) }, (_, j) => b * BATCH + j));
  const byLane = Array.from({ length: LANES }, (_, lane) => batches.map((b) => b.filter((i) => i % LANES === lane)).filter((b) => b.length));
  await mapLimit(byLane, LANES, async (laneBatches, lane) => {
    for (const b of laneBatches) await s.deliver(lane, b.map((i) => pushEvent(`seed-${i}`, pathOf(i), i)));
  });
  const acceptedS = (performance.now() - t0) / 1000;
  for (;;) {
    await idle();
    const idleAt = performance.now();
    const listing = await listAll(s);
    if (listing.seen >= n) return { acceptedS, selectableS: ((listing.seen === n ? idleAt : performance.now()) - t0) / 1000, cursors: listing.cursors };
    if (performance.now() - t0 > SELECTABLE_TIMEOUT_MS) throw new Error(`only ${listing.seen} of ${n} selectable after ${SELECTABLE_TIMEOUT_MS / 1000} s`);
    await sleep(1000);
  }
};

/** The reads a namespace's selector makes, by name, each a path under the namespace. */
const readPaths = (n: number, cursors: string[]) => {
  const deep = cursors.at(-1);
  return {
    page: () => '/images?limit=50',
    deep: () => `/images?limit=50${deep ? `&cursor=${encodeURIComponent(deep)}` : ''}`,
    qRare: () => `/images?limit=50&q=${RARE_QUERY}`,
    qCommon: () => `/images?limit=50&q=${COMMON_QUERY}`,
    tags: (k: number) => `/tags?image=${encodeURIComponent(imageOf(RARE.length + ((k * 7919) % (n - RARE.length))))}`,
  };
};
type ReadName = keyof ReturnType<typeof readPaths>;
const READ_SAMPLES: Record<ReadName, number> = { page: 200, deep: 200, qRare: 100, qCommon: 100, tags: 200 };
/** The reads also timed with the page cache missed (both audiences' versions bumped before each, not timed). */
const COLD: readonly ReadName[] = ['page', 'qRare', 'qCommon'];

/** Each read's latency, as a namespace reads again (a page or search read before is served from the cache while exact), and cold. */
const latencies = async (s: Session, paths: ReturnType<typeof readPaths>, bump: () => Promise<void>) => {
  const warm = {} as Record<ReadName, Samples>;
  const cold = {} as Record<ReadName, Samples>;
  for (const [name, path] of Object.entries(paths) as [ReadName, (k: number) => string][]) {
    const samples: number[] = [];
    for (let k = 0; k < READ_SAMPLES[name]; k++) samples.push(await timed(() => s.read(path(k))));
    warm[name] = stats(samples);
    if (!COLD.includes(name)) continue;
    const coldSamples: number[] = [];
    for (let k = 0; k < READ_SAMPLES[name]; k++) {
      await bump();
      coldSamples.push(await timed(() => s.read(path(k))));
    }
    cold[name] = stats(coldSamples);
  }
  return { warm, cold };
};

/** The reads, by the names the client's middleware sees (the low-level commands under the document client's). */
const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'ScanCommand', 'TransactGetItemsCommand']);

/**
 * Read capacity per request with the page cache missed, as the store reports it: each read the handlers make asks for
 * `ReturnConsumedCapacity: TOTAL` (dynalite and DynamoDB Local both answer it by DynamoDB's rule: 4 KB units,
 * summed per Query, halved when eventually consistent). The handlers get the same deps with the store over an
 * instrumented client for the duration; requests run one at a time so each total is that request's.
 */
const readCapacity = async (s: Session, paths: ReturnType<typeof readPaths>, base: Deps, endpoint: string, tableName: string) => {
  const db = createDocumentClient(endpoint, 'local');
  let units = 0;
  db.middlewareStack.add(
    (next, context) => async (args) => {
      if (!READ_COMMANDS.has(context.commandName ?? '')) return next(args);
      const out = await next({ ...args, input: { ...(args.input as object), ReturnConsumedCapacity: 'TOTAL' } });
      const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
      for (const c of [consumed ?? []].flat()) units += c.CapacityUnits ?? 0;
      return out;
    },
    { step: 'initialize', name: 'benchConsumedCapacity' },
  );
  const store = createStore({ db, name: tableName });
  provideDeps({ ...base, store });
  try {
    const out = {} as Record<ReadName, number>;
    for (const [name, path] of Object.entries(paths) as [ReadName, (k: number) => string][]) {
      units = 0;
      for (let k = 0; k < 10; k++) {
        // Each read with the page cache missed (a write bumps, and is not a read): what a read costs the store.
        await store.index.bump(['public', 'workspace:team-a']);
        await s.read(path(k));
      }
      out[name] = units / 10;
    }
    if (Object.values(out).every((u) => u === 0)) throw new Error('the store reported no consumed capacity');
    return out;
  } finally {
    provideDeps(base);
    db.destroy();
  }
};

/**
 * Push → selectable while other pushes stream in: the other 3 registries each send 30 events every 300 ms (up to
 * 300 events/s in all); 30 single pushes, 200 ms apart, are each polled (tags answer 200) until selectable, every
 * 50 ms or 5% of the time waited so far, whichever is longer (30 pollers at 50 ms would load the machine as much as
 * the ingest does).
 */
const freshness = async (s: Session) => {
  let stop = false;
  let sent = 0;
  const t0 = performance.now();
  const background = Promise.all(
    Array.from({ length: LANES - 1 }, async (_, l) => {
      while (!stop) {
        const started = performance.now();
        const first = sent;
        sent += 30;
        await s.deliver(1 + l, Array.from({ length: 30 }, (_, j) => pushEvent(`bg-${first + j}`, `bg-${(first + j) % SPACES_PER_REGISTRY}/svc-${pad(first + j)}`, 500_000 + first + j)));
        await sleep(Math.max(0, 300 - (performance.now() - started)));
      }
    }),
  ).then(() => sent / ((performance.now() - t0) / 1000));
  const pushes = Promise.all(
    Array.from({ length: 30 }, async (_, i) => {
      await sleep(i * 200);
      const path = `team-0/fresh-${i}`;
      const t = performance.now();
      await s.deliver(0, [pushEvent(`fresh-${i}`, path, 900_000 + i)]);
      while ((await s.status(`/tags?image=${encodeURIComponent(`${hostOf(0)}/${path}`)}`)) !== 200) {
        if (performance.now() - t > 300_000) throw new Error(`${path} not selectable after 300 s`);
        await sleep(Math.max(50, (performance.now() - t) / 20));
      }
      return performance.now() - t;
    }),
  );
  const [samples, backgroundRate] = await Promise.all([pushes, background, sleep(30 * 200).then(() => (stop = true))]);
  return { push: stats(samples), backgroundRate };
};

/** Counts the commands a document client sends from now on. */
const countCalls = (db: DynamoDBDocumentClient) => {
  const counter = { calls: 0 };
  db.middlewareStack.add((next) => (args) => (counter.calls++, next(args)), { step: 'initialize', name: 'benchCallCount' });
  return counter;
};

/**
 * What the store serves at most through `db`, in calls/s: 4,000 small conditional puts and consistent reads, 32 at
 * a time (the shape of the index's calls), before anything else runs. Ingest = this / the calls an event takes.
 */
const storeCeiling = async (db: DynamoDBDocumentClient, TableName: string) => {
  const calls = 4000;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < calls; i = next++) {
        const Key = { pk: `BENCH#${i % 500}`, sk: 'ceiling' };
        if (i % 2) await db.send(new GetCommand({ TableName, Key, ConsistentRead: true }));
        else await db.send(new PutCommand({ TableName, Item: { ...Key, n: i }, ConditionExpression: 'attribute_not_exists(n) OR n < :n', ExpressionAttributeValues: { ':n': i } }));
      }
    }),
  );
  return calls / ((performance.now() - t0) / 1000);
};

/** What registry `lane` 0 holds for a reconcile of `n`: the seed's repositories, one tag each, in its 5 spaces' order. */
const listingOf = (n: number): RegistryListing => {
  const spaces = new Map<string, ListedRepository[]>();
  for (let i = 0; i < n; i++) {
    const path = pathOf(i);
    const space = path.slice(0, path.indexOf('/'));
    spaces.set(space, [...(spaces.get(space) ?? []), { path, tags: [{ tag: '1.0', digest: digest(i) }] }]);
  }
  return { startedAt: Date.now(), spaces: [...spaces].map(([name, repositories]) => ({ name, repositories })), unreadable: [], unreadableRepositories: [], skipped: [] };
};

/**
 * A first reconcile of a Docker Registry of `n` repositories (one tag each), from its start until all are
 * selectable, on the embedded runtime. The registry's answers come from memory (`RegistryApi.list`, its manifests
 * unknown): what is timed is the product's part, the diff against the truth, the chunks applied as webhooks are,
 * and the indexer.
 */
const reconcileRound = async (n: number, log: (line: string) => void) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'image-registry-bench-reconcile-'));
  let listing: RegistryListing | undefined;
  const agreeable = agreeableRegistryApi();
  const registryApi: RegistryApi = { ...agreeable, list: async (target, opts) => (listing && target.url === `http://${hostOf(0)}` ? listing : agreeable.list(target, opts)) };
  const rt = await startRuntime({ port: 0, dataDir, jwtSecret: 'bench-secret-0123456789abcdef', registryApi });
  try {
    const s = await session(rt);
    await rt.bus.idle();
    const registry = await rt.deps.store.registries.get(s.registryIds[0] ?? '');
    if (!registry) throw new Error('the registry is not stored');
    listing = listingOf(n);
    const t0 = performance.now();
    // As the schedule runs it (an admin's sync also audits the registry's index afterwards: a repair, not timed here).
    const report = await reconcileRegistry(registry, rt.deps, { correlationId: 'bench-reconcile', actor: 'bench' });
    if (report.status !== 'healthy') throw new Error(`the reconcile ended ${report.status}`);
    for (;;) {
      await rt.bus.idle();
      const idleAt = performance.now();
      const { seen } = await listAll(s);
      if (seen >= n) {
        const selectableS = ((seen === n ? idleAt : performance.now()) - t0) / 1000;
        log(`[${n}] reconcile of ${n} repositories: all selectable after ${selectableS.toFixed(1)} s`);
        return selectableS;
      }
      if (performance.now() - t0 > SELECTABLE_TIMEOUT_MS) throw new Error(`only ${seen} of ${n} selectable after a reconcile of ${SELECTABLE_TIMEOUT_MS / 1000} s`);
      await sleep(1000);
    }
  } finally {
    await rt.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

type Row = Awaited<ReturnType<typeof embeddedRound>> & { reconcileS: number };

/** What the embedded runtime (`npm start`: store on disk, in-process bus) does with `n` repositories. */
const embeddedRound = async (n: number, log: (line: string) => void) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'image-registry-bench-scale-'));
  const rt = await startRuntime({ port: 0, dataDir, jwtSecret: 'bench-secret-0123456789abcdef' });
  try {
    const s = await session(rt);
    await rt.bus.idle();
    const ceiling = await storeCeiling(rt.storeClient, rt.tableName);
    const counter = countCalls(rt.storeClient);
    const seeded = await seed(s, n, () => rt.bus.idle());
    const callsPerEvent = counter.calls / n;
    log(`[${n}] webhooks accepted ${n} events in ${seeded.acceptedS.toFixed(1)} s, all selectable after ${seeded.selectableS.toFixed(1)} s; ${callsPerEvent.toFixed(1)} store calls per event, store ceiling ${ceiling.toFixed(0)} calls/s`);
    const paths = readPaths(n, seeded.cursors);
    const { warm: lat, cold } = await latencies(s, paths, () => rt.deps.store.index.bump(['public', 'workspace:team-a']));
    log(`[${n}] ${Object.entries(lat).map(([k, v]) => `${k} ${pair(v)}`).join(', ')}; cache missed: ${Object.entries(cold).map(([k, v]) => `${k} ${pair(v)}`).join(', ')}`);
    const rcu = await readCapacity(s, paths, rt.deps, rt.storeEndpoint, rt.tableName);
    log(`[${n}] RCU per request: ${Object.entries(rcu).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const fresh = await freshness(s);
    log(`[${n}] push → selectable ${pair(fresh.push)} under a background ingest of ${fresh.backgroundRate.toFixed(0)} events/s`);
    // The machine is shared: the 1-minute load average says how much else ran during the round.
    return { n, ...seeded, callsPerEvent, ceiling, lat, cold, rcu, ...fresh, load: loadavg()[0] ?? NaN };
  } finally {
    await rt.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

/**
 * The AWS-shaped path: the same runtime and handlers with its store swapped for DynamoDB Local (the bus delivers
 * as the runtime's does; webhooks arrive 4 at a time as parallel Lambdas would take them). Ingest and read capacity.
 */
const awsRound = async (n: number, log: (line: string) => void) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'image-registry-bench-aws-'));
  const ddb = await startDynamoDbLocal();
  const rt = await startRuntime({ port: 0, dataDir, jwtSecret: 'bench-secret-0123456789abcdef' });
  const db = createDocumentClient(ddb.endpoint, 'local');
  try {
    const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await ensureTable(client, rt.tableName);
    client.destroy();
    const deps: Deps = { ...rt.deps, store: createStore({ db, name: rt.tableName }) };
    provideDeps(deps);
    const s = await session(rt);
    await rt.bus.idle();
    const ceiling = await storeCeiling(db, rt.tableName);
    const counter = countCalls(db);
    const seeded = await seed(s, n, () => rt.bus.idle());
    const callsPerEvent = counter.calls / n;
    const rcu = await readCapacity(s, readPaths(n, seeded.cursors), deps, ddb.endpoint, rt.tableName);
    log(`[aws ${n}] accepted in ${seeded.acceptedS.toFixed(1)} s, selectable after ${seeded.selectableS.toFixed(1)} s; ${callsPerEvent.toFixed(1)} store calls per event, store ceiling ${ceiling.toFixed(0)} calls/s; RCU ${Object.entries(rcu).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    return { n, ...seeded, callsPerEvent, ceiling, rcu };
  } finally {
    await rt.close();
    db.destroy();
    await ddb.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

const perS = (n: number, s: number) => (n / s).toFixed(0);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

const table = (rows: Row[]) => {
  const head = '| visible images | webhooks accepted (events/s) | until all selectable | ingest (events/s) | a first reconcile: until all selectable | store calls per event / ceiling (calls/s) | page p50 / p99 | deep page p50 / p99 | `q` rare p50 / p99 | `q` common p50 / p99 | tags p50 / p99 | cache missed: page / `q` rare / `q` common p99 | push → selectable p50 / p99 (background events/s) | RCU, cache missed: page / deep / q rare / q common / tags | load |';
  const coldP99 = (r: Row) => `${COLD.map((k) => ms(r.cold[k].p99)).join(' / ')} ms`;
  const lines = rows.map((r) =>
    `| ${r.n.toLocaleString('en')} | ${perS(r.n, r.acceptedS)} | ${r.selectableS.toFixed(1)} s | ${perS(r.n, r.selectableS)} | ${r.reconcileS.toFixed(1)} s | ${r.callsPerEvent.toFixed(1)} / ${r.ceiling.toFixed(0)} | ${pair(r.lat.page)} | ${pair(r.lat.deep)} | ${pair(r.lat.qRare)} | ${pair(r.lat.qCommon)} | ${pair(r.lat.tags)} | ${coldP99(r)} | ${pair(r.push)} (${r.backgroundRate.toFixed(0)}) | ${[r.rcu.page, r.rcu.deep, r.rcu.qRare, r.rcu.qCommon, r.rcu.tags].join(' / ')} | ${r.load.toFixed(1)} |`,
  );
  const [small, large] = [rows[0], rows.at(-1)];
  if (small && large && rows.length > 1) {
    const p99 = (r: Row, k: ReadName) => r.lat[k].p99;
    lines.push(
      `| ${large.n.toLocaleString('en')} / ${small.n.toLocaleString('en')} | ${ratio(small.acceptedS / small.n, large.acceptedS / large.n)} | | ${ratio(small.selectableS / small.n, large.selectableS / large.n)} | | | p99 ${ratio(p99(large, 'page'), p99(small, 'page'))} | p99 ${ratio(p99(large, 'deep'), p99(small, 'deep'))} | p99 ${ratio(p99(large, 'qRare'), p99(small, 'qRare'))} | p99 ${ratio(p99(large, 'qCommon'), p99(small, 'qCommon'))} | p99 ${ratio(p99(large, 'tags'), p99(small, 'tags'))} | ${COLD.map((k) => ratio(large.cold[k].p99, small.cold[k].p99)).join(' / ')} | p99 ${ratio(large.push.p99, small.push.p99)} | ${(['page', 'deep', 'qRare', 'qCommon', 'tags'] as const).map((k) => ratio(large.rcu[k], small.rcu[k])).join(' / ')} | |`,
    );
  }
  return [head, `|${'---|'.repeat(15)}`, ...lines].join('\n');
};

const awsTable = (rows: Awaited<ReturnType<typeof awsRound>>[]) =>
  [
    '| AWS-shaped (DynamoDB Local) | webhooks accepted (events/s) | until all selectable | ingest (events/s) | store calls per event / ceiling (calls/s) | RCU, cache missed: page / deep / q rare / q common / tags |',
    `|${'---|'.repeat(6)}`,
    ...rows.map((r) => `| ${r.n.toLocaleString('en')} | ${perS(r.n, r.acceptedS)} | ${r.selectableS.toFixed(1)} s | ${perS(r.n, r.selectableS)} | ${r.callsPerEvent.toFixed(1)} / ${r.ceiling.toFixed(0)} | ${[r.rcu.page, r.rcu.deep, r.rcu.qRare, r.rcu.qCommon, r.rcu.tags].join(' / ')} |`),
  ].join('\n');

/**
 * `npm run bench -- --scale 200,2000,20000`: for each size, on the embedded runtime, ingest through webhooks and the
 * time until all is selectable, read latencies and read capacity, push → selectable under load; then the ratios
 * largest/smallest, and the same ingest and capacity on the AWS-shaped path (sizes up to `AWS_MAX`). Not a test: nothing asserts a time.
 */
export const runScaleBench = async (sizes: readonly number[], log: (line: string) => void) => {
  const level = logger.getLevelName();
  if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('CRITICAL');
  try {
    const rows: Row[] = [];
    for (const n of sizes) rows.push({ ...(await embeddedRound(n, log)), reconcileS: await reconcileRound(n, log) });
    const aws = [];
    for (const n of sizes.filter((n) => n <= AWS_MAX)) aws.push(await awsRound(n, log));
    log(`scale (embedded runtime, ${LANES} webhook lanes of ${BATCH / LANES} events a request, ${LANES * SPACES_PER_REGISTRY} spaces; ingest = events / time until all selectable):\n\n${table(rows)}\n\n${awsTable(aws)}\n`);
  } finally {
    logger.setLogLevel(level);
  }
};
