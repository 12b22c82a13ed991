import { readFileSync } from 'node:fs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { BusEvent } from '../events/contract.ts';
import type { Claims } from '../shared/http/claims.ts';
import { handleIndexEvents } from '../shared/index/indexer.ts';
import { INDEX_BATCH_SIZE } from '../shared/topology.ts';
import { AdmissionReviewV1 } from '../shared/kubernetes/admission-review.ts';
import { logger } from '../shared/logger.ts';
import { mapLimit } from '../shared/registries/pool.ts';
import { createStore } from '../shared/store/index.ts';
import type { Table } from '../shared/store/table.ts';
import { reviewAdmission } from '../shared/usecases/admission.ts';
import { authenticateCluster, putCluster } from '../shared/usecases/clusters.ts';
import { registerRegistry } from '../shared/usecases/registries.ts';
import { listImages, listTags } from '../shared/usecases/selector.ts';
import { bindSpace, createSpace, unbindSpace } from '../shared/usecases/spaces.ts';
import { putNamespace, putWorkspace } from '../shared/usecases/tenancy.ts';
import { harborProjectSecret } from '../shared/usecases/webhook-secrets.ts';
import { receiveWebhook } from '../shared/usecases/webhooks.ts';
import { consume, ctx, testDeps } from '../test/helpers/deps.ts';
import { startDynamoDbLocal } from '../test/helpers/dynamodb-local.ts';
import { createTestTable } from '../test/helpers/table.ts';

/** Public repositories seeded before reading (a page, a deep page and a common search all fill up). */
const SEED_PUBLIC = 500;
/** Private repositories in the bound Harbor space: what an unbind withdraws. */
const SEED_PRIVATE = 100;
/** Repetitions of each measured request: capacity is deterministic, the mean only smooths the conditional misses. */
const REPEAT = 5;
/** A reconcile-like burst into one space: events, webhook requests of `BATCH`, and the indexer workers taking them. */
const BURST = 200;
const BATCH = 100;
const WORKERS = 4;
const PAGE = 50;

const READS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'ScanCommand']);
/** What a failed conditional write is charged (DynamoDB reports nothing for it): one item under 1 KB. */
const ESTIMATED_FAILED_WCU = 1;

type Raw = { calls: number; rcu: number; wcu: number; gsiWcu: number; failed: number; byClass: Map<string, { read: number; write: number; keys: Map<string, number> }> };
type Consumed = { CapacityUnits?: number; Table?: { CapacityUnits?: number }; GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }> };
type KeyAttributes = { pk?: unknown; sk?: unknown };
type Input = {
  Key?: KeyAttributes;
  Item?: KeyAttributes;
  IndexName?: string;
  ExpressionAttributeValues?: Record<string, unknown>;
  RequestItems?: Record<string, { Keys?: KeyAttributes[] } | { PutRequest?: { Item?: KeyAttributes }; DeleteRequest?: { Key?: KeyAttributes } }[]>;
  ReturnConsumedCapacity?: string;
};

/**
 * The partition a key lands in, named by its pattern (`shared/store/keys.ts`), and the key itself: per-partition
 * limits apply to one key value, so the load of a pattern is judged by its busiest key. The lease is an item of its
 * space's partition, kept apart because one item can never be split.
 */
const partitionOf = (pk: string, sk: unknown, index?: string): { cls: string; key: string } => {
  if (index === 'gsi2') return { cls: 'GSI2 PENDING', key: 'PENDING' };
  if (index === 'gsi1') return { cls: 'GSI1 WORKSPACE#{w}', key: pk };
  if (sk === 'INDEXLEASE') return { cls: 'lease SPACE#{r}#{s}/INDEXLEASE', key: pk };
  const audience = (a: string) => (a === 'public' ? 'public' : 'workspace:{w}');
  const m = /^(AUDIENCE|AUDIENCEVERSION|SEARCHHOSTS|SEARCHSPACE|SEARCH)#(public|workspace:[^#]*)(#.*)?$/.exec(pk);
  if (m) return { cls: `${m[1]}#${audience(m[2] ?? '')}${m[1] === 'SEARCH' || m[1] === 'SEARCHSPACE' ? '#{prefix}' : ''}`, key: pk };
  const generic = /^(SPACE|REPO|REGISTRY|CLUSTER)#/.exec(pk)?.[1];
  const names: Record<string, string> = { SPACE: 'SPACE#{r}#{s}', REPO: 'REPO#{r}#{path}', REGISTRY: 'REGISTRY#{r}', CLUSTER: 'CLUSTER#{c}' };
  return { cls: (generic && names[generic]) || pk, key: pk };
};

/** The keys one command touches (a Query: its partition), for splitting what it consumed among them. */
const keysOf = (command: string, input: Input): KeyAttributes[] => {
  const one = input.Key ?? input.Item;
  if (one) return [one];
  if (command === 'QueryCommand') return [{ pk: input.ExpressionAttributeValues?.[':pk'] }];
  return Object.values(input.RequestItems ?? {}).flatMap((r) => (Array.isArray(r) ? r.map((w) => w.PutRequest?.Item ?? w.DeleteRequest?.Key ?? {}) : (r.Keys ?? [])));
};

const emptyRaw = (): Raw => ({ calls: 0, rcu: 0, wcu: 0, gsiWcu: 0, failed: 0, byClass: new Map() });

/**
 * Meters every command the table's client sends: `ReturnConsumedCapacity: INDEXES` on each, what DynamoDB reports
 * (the table and each GSI apart), split evenly among a batch's keys (its items are small, so each is charged alike).
 * A conditional write whose condition fails is charged by DynamoDB but reported to no one: it counts as 1 WCU (an
 * item under 1 KB) and is counted apart. `take` answers what was metered since the last `take`.
 */
const meter = (table: Table) => {
  let raw = emptyRaw();
  const add = (read: boolean, units: number, at: { cls: string; key: string }) => {
    const cls = raw.byClass.get(at.cls) ?? { read: 0, write: 0, keys: new Map<string, number>() };
    if (read) cls.read += units;
    else cls.write += units;
    cls.keys.set(at.key, (cls.keys.get(at.key) ?? 0) + units);
    raw.byClass.set(at.cls, cls);
  };
  const charge = (read: boolean, touched: KeyAttributes[], index: string | undefined, consumed: Consumed) => {
    const onTable = consumed.Table?.CapacityUnits ?? (consumed.GlobalSecondaryIndexes ? 0 : (consumed.CapacityUnits ?? 0));
    if (read) raw.rcu += onTable;
    else raw.wcu += onTable;
    if (onTable) for (const k of touched) add(read, onTable / touched.length, partitionOf(String(k.pk), k.sk));
    for (const [gsi, used] of Object.entries(consumed.GlobalSecondaryIndexes ?? {})) {
      const units = used.CapacityUnits ?? 0;
      if (read) raw.rcu += units;
      else raw.gsiWcu += units;
      add(read, units, partitionOf(index === gsi ? String(touched[0]?.pk) : `${gsi} (written)`, undefined, gsi));
    }
  };
  table.db.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      const input = args.input as Input;
      const read = READS.has(command);
      const touched = keysOf(command, input);
      raw.calls++;
      input.ReturnConsumedCapacity = 'INDEXES';
      try {
        const out = await next(args);
        for (const c of [(out.output as { ConsumedCapacity?: Consumed | Consumed[] }).ConsumedCapacity ?? []].flat()) charge(read, touched, input.IndexName, c);
        return out;
      } catch (error) {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
        raw.failed++;
        raw.wcu += ESTIMATED_FAILED_WCU;
        for (const k of touched) add(false, ESTIMATED_FAILED_WCU, partitionOf(String(k.pk), k.sk));
        throw error;
      }
    },
    { step: 'initialize', name: 'capacityMeter' },
  );
  return {
    take: () => {
      const done = raw;
      raw = emptyRaw();
      return done;
    },
  };
};
type Meter = ReturnType<typeof meter>;

/** One measured line: totals over `runs` runs of `items` each, and per pattern the keys and the busiest key's units per run. */
type Row = {
  name: string;
  part: string;
  runs: number;
  items: number;
  ms: number;
  /** The answers' JSON, for reads: what leaves through API Gateway. */
  bytes: number;
  calls: number;
  rcu: number;
  wcu: number;
  gsiWcu: number;
  failed: number;
  byClass: Map<string, { read: number; write: number; keys: number; busiest: number }>;
};

/** Runs measured work and folds each run into its row, so a row says what one request (or one item of it) costs. */
const recorder = (m: Meter) => {
  const rows = new Map<string, Row>();
  const record = async (name: string, part: string, work: () => Promise<unknown>, items = 1) => {
    m.take();
    const t0 = performance.now();
    const answer = await work();
    const ms = performance.now() - t0;
    const raw = m.take();
    const row = rows.get(`${name}\n${part}`) ?? { name, part, runs: 0, items, ms: 0, bytes: 0, calls: 0, rcu: 0, wcu: 0, gsiWcu: 0, failed: 0, byClass: new Map() };
    row.runs++, (row.ms += ms), (row.bytes += part === 'read' ? Buffer.byteLength(JSON.stringify(answer ?? null)) : 0), (row.calls += raw.calls), (row.rcu += raw.rcu), (row.wcu += raw.wcu), (row.gsiWcu += raw.gsiWcu), (row.failed += raw.failed);
    for (const [cls, u] of raw.byClass) {
      const c = row.byClass.get(cls) ?? { read: 0, write: 0, keys: 0, busiest: 0 };
      c.read += u.read, (c.write += u.write), (c.keys += u.keys.size), (c.busiest += Math.max(...u.keys.values()));
      row.byClass.set(cls, c);
    }
    rows.set(`${name}\n${part}`, row);
  };
  return { record, rows: () => [...rows.values()] };
};

const round = (v: number) => (v === 0 ? '0' : v < 10 ? v.toFixed(2).replace(/\.?0+$/, '') : v.toFixed(0));

/** The partition patterns a request touched, heaviest first; when spread over keys, how much its busiest key took. */
const hotKeys = (r: Row) =>
  [...r.byClass.entries()]
    .sort(([, a], [, b]) => b.read + b.write - (a.read + a.write))
    .map(([cls, u]) => {
      const per = r.runs * r.items;
      const rw = [u.read || !u.write ? `r ${round(u.read / per)}` : '', u.write ? `w ${round(u.write / per)}` : ''].filter(Boolean).join(' ');
      const keys = u.keys / r.runs;
      return `${cls} ${rw}${keys > 1.5 ? ` (${round(keys)} keys, busiest ${round(u.busiest / r.runs)} a run)` : ''}`;
    })
    .join('; ');

const tableOf = (rows: readonly Row[]) =>
  [
    '| request | part | DynamoDB calls | RCU | WCU (table) | WCU (GSI) | failed conditions | ms on DynamoDB Local | answer KB | partitions touched (units; a run is one request, or the whole burst or unbind) |',
    `|${'---|'.repeat(10)}`,
    ...rows.map((r) => {
      const per = r.runs * r.items;
      return `| ${r.name} | ${r.part} | ${round(r.calls / per)} | ${round(r.rcu / per)} | ${round(r.wcu / per)} | ${round(r.gsiWcu / per)} | ${round(r.failed / per)} | ${round(r.ms / per)} | ${r.bytes ? round(r.bytes / r.runs / 1024) : ''} | ${hotKeys(r)} |`;
    }),
  ].join('\n');

/** DynamoDB's size of an item (names and values in bytes), close enough to judge it against 400 KB. */
const sizeOf = (value: unknown): number => {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(value).replace(/^-|\./g, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + sizeOf(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + sizeOf(v), 0);
  if (typeof value === 'object') return 3 + Object.entries(value as object).reduce((n, [k, v]) => n + Buffer.byteLength(k) + 1 + sizeOf(v), 0);
  return 0;
};

/** The largest item of each partition pattern left in the table (a Scan, unmetered: it is no product path). */
const largestItems = async (table: Table) => {
  const largest = new Map<string, number>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.db.send(new ScanCommand({ TableName: table.name, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const { cls } = partitionOf(String(item.pk), item.sk);
      const label = cls === 'SPACE#{r}#{s}' || cls === 'REPO#{r}#{path}' ? `${cls} ${String(item.entityType ?? '')}` : cls;
      largest.set(label, Math.max(largest.get(label) ?? 0, Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + sizeOf(v), 0)));
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return [...largest].sort((a, b) => b[1] - a[1]).map(([cls, bytes]) => `${cls} ${(bytes / 1024).toFixed(1)} KB`).join('; ');
};

const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/kubernetes/admissionreview-v1-pod-create.json', import.meta.url), 'utf8')) as {
  request: Record<string, unknown> & { object: { metadata: Record<string, unknown>; spec: Record<string, unknown> } };
};
/** The captured Pod CREATE, in `namespace`, one container per image. */
const podReview = (namespace: string, images: readonly string[]) => {
  const review = structuredClone(fixture);
  review.request.namespace = namespace;
  review.request.object.metadata.namespace = namespace;
  review.request.object.spec.initContainers = [];
  review.request.object.spec.containers = images.map((image, i) => ({ name: `c${i}`, image }));
  return AdmissionReviewV1.parse(review);
};

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const pad = (n: number) => String(n).padStart(5, '0');

/**
 * The platform measured: a Docker Registry (public spaces) and a Harbor (space `sec`, private, bound to workspace
 * `team-a`), namespaces `c1/ns-a` (team-a) and `c1/ns-b` (team-b), an admission cluster `c1`; every change goes
 * through the same use cases and handlers the Lambdas run, on DynamoDB Local.
 */
const platform = async (endpoint: string) => {
  const t = await createTestTable(endpoint);
  const env = testDeps(t.store);
  const { deps, bus } = env;
  const dr = await registerRegistry({ name: 'dr', kind: 'docker-registry', mode: 'integrated', url: 'https://registry.example.com' }, deps, ctx);
  const hb = await registerRegistry({ name: 'hb', kind: 'harbor', mode: 'integrated', url: 'https://harbor.example.com' }, deps, ctx);
  for (const w of ['team-a', 'team-b']) await putWorkspace(w, {}, deps, ctx);
  for (const [ns, w] of [['ns-a', 'team-a'], ['ns-b', 'team-b'], ['ns-m', 'team-a']] as const) await putNamespace('c1', ns, { workspaceId: w }, deps, ctx);
  await createSpace(hb.id, { name: 'sec', visibility: 'private' }, deps, ctx);
  await bindSpace(hb.id, 'sec', 'team-a', deps, ctx);
  const admission = (await putCluster('c1', { unmanagedImages: 'deny' }, deps, ctx)).body as { admissionToken: string };
  let n = 0;
  const at = () => Date.now() - 3_600_000 + n++;
  /** A Docker Registry notification of pushes (`space/repo:tag` each). */
  const pushPublic = (refs: readonly string[]) =>
    receiveWebhook('docker-registry', {
      registryId: dr.id,
      authorization: `Bearer ${dr.webhook.secret}`,
      body: {
        events: refs.map((ref) => {
          const [repository = '', tag] = ref.split(':');
          return { id: `e-${n}`, timestamp: new Date(at()).toISOString(), action: 'push', target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest(n), repository, tag } };
        }),
      },
    }, deps, ctx);
  /** A Harbor PUSH_ARTIFACT of one tag into space `sec`, signed with the project's own secret. */
  const pushPrivate = (repo: string, tag: string) =>
    receiveWebhook('harbor', {
      registryId: hb.id,
      authorization: `Bearer ${harborProjectSecret(hb.webhook.secret, 'sec')}`,
      body: {
        type: 'PUSH_ARTIFACT',
        occur_at: Math.floor(at() / 1000),
        operator: 'bench',
        event_data: {
          resources: [{ digest: digest(n), tag, resource_url: `${hb.host}/sec/${repo}:${tag}` }],
          repository: { name: repo, namespace: 'sec', repo_full_name: `sec/${repo}`, repo_type: 'private' },
        },
      },
    }, deps, ctx);
  /** Delivers what was published to every consumer, `WORKERS` at a time, as parallel Lambdas would take it. */
  const drain = async () => {
    for (let batch = bus.take(); batch.length; batch = bus.take()) await mapLimit(batch, WORKERS, (e) => consume(e, deps));
  };
  return { t, deps, bus, dr, hb, admission, pushPublic, pushPrivate, drain };
};
type Platform = Awaited<ReturnType<typeof platform>>;

/** The catalogue read against: public `lib/app-*` and one `lib/rare-plum`, private `sec/svc-*`, all indexed. */
const seed = async (p: Platform) => {
  const refs = [...Array.from({ length: SEED_PUBLIC }, (_, i) => `lib/app-${pad(i)}:1.0`), 'lib/rare-plum:1.0'];
  for (let i = 0; i < refs.length; i += BATCH) await p.pushPublic(refs.slice(i, i + BATCH));
  for (let i = 0; i < SEED_PRIVATE; i++) await p.pushPrivate(`svc-${pad(i)}`, 'v1');
  await p.drain();
};

/** The indexer on `events` as its queue hands them over: batches of `INDEX_BATCH_SIZE`, `workers` at a time. */
const indexBatches = async (p: Platform, events: readonly BusEvent[], workers: number) => {
  const batches = Array.from({ length: Math.ceil(events.length / INDEX_BATCH_SIZE) }, (_, i) => events.slice(i * INDEX_BATCH_SIZE, (i + 1) * INDEX_BATCH_SIZE));
  await mapLimit(batches, workers, async (batch) => {
    const failed = await handleIndexEvents(batch.map((event) => ({ itemId: event.detail.metadata.id, event })), p.deps);
    if (failed.length) throw new Error(`${failed.length} events failed`);
  });
};

/** Runs one request, then the indexer on the events it published, metered apart. */
const requestAndIndex = async (p: Platform, rec: Recorder, name: string, request: () => Promise<unknown>, items = 1) => {
  await rec.record(name, 'request', request, items);
  const events: BusEvent[] = p.bus.take();
  await rec.record(name, 'indexer', () => indexBatches(p, events, 1), items);
};
type Recorder = ReturnType<typeof recorder>;
const repeat = async (run: (i: number) => Promise<unknown>) => {
  for (let i = 0; i < REPEAT; i++) await run(i);
};

/** Pushes into a public and a private space: a new repository, then a new tag of it. */
const pushes = async (p: Platform, rec: Recorder) => {
  await repeat((i) => requestAndIndex(p, rec, 'push, new repository, public space', () => p.pushPublic([`lib/new-${i}:1.0`])));
  await repeat((i) => requestAndIndex(p, rec, 'push, new tag of an existing repository, public space', () => p.pushPublic([`lib/new-${i}:1.1`])));
  await repeat((i) => requestAndIndex(p, rec, 'push, new repository, private space bound to 1 workspace', () => p.pushPrivate(`new-${i}`, 'v1')));
  await repeat((i) => requestAndIndex(p, rec, 'push, new tag, private space bound to 1 workspace', () => p.pushPrivate(`new-${i}`, 'v2')));
};

const READER: Claims = { sub: 'reader', roles: [], workspaces: ['team-a'] };

/**
 * Reads of namespace `ns-a` (2 audiences), each `REPEAT` times; `fresh`: each from a new process whose page cache is
 * empty, as a cold Lambda or the first read after a write to the audience.
 */
const selectorReads = async (p: Platform, rec: Recorder) => {
  const page = (deps: Platform['deps'], query: { q?: string; cursor?: string } = {}) => listImages('c1', 'ns-a', { limit: PAGE, ...query }, READER, deps);
  const cursors: string[] = [];
  for (let cursor = (await page(p.deps)).nextCursor; cursor && cursors.length < 6; cursor = (await page(p.deps, { cursor })).nextCursor) cursors.push(cursor);
  const deep = cursors.at(-1);
  if (!deep || (await page(p.deps)).items.length !== PAGE) throw new Error(`the namespace sees fewer than two pages of ${PAGE}`);
  if ((await page(p.deps, { q: 'plum' })).items.length !== 1) throw new Error('the rare search does not find its one image');
  const images = [`${p.dr.host}/lib/app-00001:1.0`, `${p.dr.host}/lib/app-00002`, `${p.hb.host}/sec/svc-00001:v1`];
  const review = async (deps: Platform['deps'], ns: string) => {
    const cluster = await authenticateCluster('c1', `Bearer ${p.admission.admissionToken}`, deps);
    return (await reviewAdmission(cluster, podReview(ns, images), deps)).response;
  };
  if (!(await review(p.deps, 'ns-a')).allowed || (await review(p.deps, 'ns-b')).allowed) throw new Error('the admission review does not decide as the rule says');
  const reads = async (name: string, read: (deps: Platform['deps']) => Promise<unknown>, fresh = true) => {
    await read(p.deps);
    await repeat(() => rec.record(name, 'read', () => read(fresh ? { ...p.deps, store: createStore(p.t.table) } : p.deps)));
  };
  await reads(`selector first page (${PAGE} items, 2 audiences), page cache cold`, (d) => page(d));
  await reads('selector first page, served from the page cache', (d) => page(d), false);
  await reads(`selector deep page (page ${cursors.length + 1}), page cache cold`, (d) => page(d, { cursor: deep }));
  await reads('`q` rare match (1 image)', (d) => page(d, { q: 'plum' }));
  await reads(`\`q\` common match (every image matches, a page of ${PAGE})`, (d) => page(d, { q: 'app' }));
  await reads('`q` common match, served from the page cache', (d) => page(d, { q: 'app' }), false);
  await reads('tags of one image', (d) => listTags('c1', 'ns-a', `${p.dr.host}/lib/app-00007`, READER, d));
  await reads('admission review (token checked), Pod of 3 containers, all allowed', (d) => review(d, 'ns-a'));
  await reads('admission review, 1 of 3 refused (explained, logged)', (d) => review(d, 'ns-b'));
};

/** The indexer's `MAX_HANDED_PATHS`: past it, work handed over becomes the whole space. */
const MAX_HANDED_PATHS = 1000;

/**
 * One hand-off to a busy holder as its lease item grows (DynamoDB charges an update by the larger of the item before
 * and after it): the lease of a space whose holder is busy holds up to `MAX_HANDED_PATHS` paths of 36 characters.
 * The probe's lease is left in place, so the largest-item line shows its size.
 */
const handOffGrowth = async (p: Platform, rec: Recorder) => {
  const { leases } = p.deps.store;
  const [rid, space, owner, now] = [p.dr.id, 'lease-probe', 'bench-holder', Date.now()];
  const handOff = (i: number) => leases.handOff(rid, space, { paths: [`${space}/payments-service-${pad(i)}`], whole: false, marks: [] }, now, MAX_HANDED_PATHS);
  if (!(await leases.acquire(rid, space, owner, now, 600_000))) throw new Error('the probe lease is held');
  let handed = 0;
  for (const held of [0, 100, 500, 999, MAX_HANDED_PATHS]) {
    while (handed < held) await handOff(handed++);
    await rec.record(`hand-off of one repository to a busy holder, its lease holding ${held} paths`, 'indexer', () => handOff(held === MAX_HANDED_PATHS ? held : handed++));
  }
};

/** A namespace moved between workspaces; the space of `SEED_PRIVATE` + `REPEAT` repositories unbound and bound again. */
const tenancyChanges = async (p: Platform, rec: Recorder) => {
  await repeat((i) => requestAndIndex(p, rec, 'namespace moves to another workspace', () => putNamespace('c1', 'ns-m', { workspaceId: i % 2 ? 'team-a' : 'team-b' }, p.deps, ctx)));
  const repos = SEED_PRIVATE + REPEAT;
  await repeat(async () => {
    await requestAndIndex(p, rec, `unbind a space of ${repos} repositories, per repository`, () => unbindSpace(p.hb.id, 'sec', 'team-a', p.deps, ctx), repos);
    await requestAndIndex(p, rec, `bind a space of ${repos} repositories, per repository`, () => bindSpace(p.hb.id, 'sec', 'team-a', p.deps, ctx), repos);
  });
};

/**
 * A reconcile-like burst into one public space: `BURST` pushes in webhook requests of `BATCH`, then their events
 * taken by `WORKERS` indexers at once (they meet on the space's lease and hand work to its holder). First new
 * repositories into a new space (its creation re-derives the whole space too), then a new tag of each.
 */
const bursts = async (p: Platform, rec: Recorder) => {
  for (const [what, tag] of [['new repositories into a new space', '1.0'], ['new tags of existing repositories in one space', '1.1']] as const) {
    const refs = Array.from({ length: BURST }, (_, i) => `burst/svc-${pad(i)}:${tag}`);
    const name = `burst of ${BURST} ${what}, ${WORKERS} indexer workers, per event`;
    await rec.record(name, 'request', async () => {
      for (let i = 0; i < refs.length; i += BATCH) await p.pushPublic(refs.slice(i, i + BATCH));
    }, BURST);
    const events: BusEvent[] = p.bus.take();
    await rec.record(name, 'indexer', () => indexBatches(p, events, WORKERS), BURST);
  }
  const found = await listImages('c1', 'ns-a', { q: 'burst', limit: 100 }, READER, { ...p.deps, store: createStore(p.t.table) });
  if (found.items.length !== Math.min(BURST, 100) || found.items.some((i) => i.latestTag.tag !== '1.1')) throw new Error('after the bursts the selector does not show their last tags');
};

/**
 * `npm run bench -- --capacity`: the capacity each request consumes on DynamoDB Local (`ReturnConsumedCapacity:
 * INDEXES` on every command the use cases and the indexer send), by partition pattern, with the largest item of
 * each. docs/scale.md derives its capacity and cost model from this table. Not a test: nothing here asserts a number.
 */
export const runCapacityBench = async (log: (line: string) => void) => {
  const level = logger.getLevelName();
  if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('CRITICAL');
  const ddb = await startDynamoDbLocal();
  try {
    const p = await platform(ddb.endpoint);
    try {
      await seed(p);
      p.bus.take();
      const rec = recorder(meter(p.t.table));
      await pushes(p, rec);
      await selectorReads(p, rec);
      await tenancyChanges(p, rec);
      await bursts(p, rec);
      await handOffGrowth(p, rec);
      // Every measured request reads or writes something: a line of zeros means the store stopped reporting capacity.
      const silent = rec.rows().filter((r) => r.rcu + r.wcu + r.gsiWcu === 0);
      if (silent.length) throw new Error(`the store reported no consumed capacity for: ${silent.map((r) => `${r.name} (${r.part})`).join('; ')}`);
      log(`capacity per request on DynamoDB Local (${SEED_PUBLIC + 1} public and ${SEED_PRIVATE} private repositories seeded; each line the mean of ${REPEAT} runs):\n\n${tableOf(rec.rows())}\n`);
      log(`largest item per pattern: ${await largestItems(p.t.table)}`);
    } finally {
      await p.t.drop();
    }
  } finally {
    await ddb.stop();
    logger.setLogLevel(level);
  }
};
