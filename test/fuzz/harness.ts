import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { DeleteCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import * as z from 'zod';
import { signJwt } from '../../shared/local/jwt.ts';
import { createDocumentClient } from '../../shared/store/table.ts';
import { ROUTE_LIST } from '../../shared/topology.ts';
import { startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { CLUSTER_ROLES, REGISTRY_ROLES, TOKEN_NAMES, anyRequest, type ClusterName, type FuzzRequest, type TokenName } from './generators.ts';

/**
 * The fuzz harness: starts the service in its own process (`service.ts`), registers a small world through the API
 * (registries on closed loopback ports and on a local fake Harbor, workspaces, namespaces, spaces, bindings, pushed
 * tags, clusters of the admission webhook), then sends generated requests one at a time and checks each answer and the store:
 * - no answer ≥ 500 (the contract's 502/503 for a registry that is down or refused are counted apart: the world has
 *   such registries on purpose), no request left unanswered, the process never exits (it is restarted if it does);
 * - no item added, changed or removed by a rejected request (status ≥ 400): the table is scanned before and after.
 *   Rejected means the HTTP status, not the verdict inside: an AdmissionReview answered 200 with `allowed: false`
 *   is an accepted request, and writes the cluster's decision log (counted apart in `admissionVerdicts`).
 *   Requests that carry real credentials and change something (not GET) are watched one by one; the others (GETs,
 *   bad credentials) in batches between two scans. When a batch's scans differ, the changed items are put back and
 *   the batch is replayed request by request to find the one that did it. Before each scan the bus is drained, and
 *   no watched window spans a schedule tick (the sweep runs every 60 s from the service's start): the harness pauses
 *   around each tick. Fields the indexer, probes and reconciles set on their own are not compared (`NOT_COMPARED`).
 * Each distinct cause (by error and code location, or by function and answer for store changes) is one finding;
 * fast-check shrinks the request that first showed it, then the run goes on with the next seed until the request
 * budget is spent. Errors the service logs in the background (bus deliveries, schedules) are findings too.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const JWT_SECRET = 'fuzz-secret-that-is-long-enough-0123456789';
const REQUEST_TIMEOUT_MS = 5_000;
/** Nothing listens on these loopback ports (1–9): registries there are unreachable at once. */
const CLOSED_PORTS = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const TICK_MS = 60_000;
/** No watched window may contain [tick - before, tick + after]. */
const TICK_GUARD = { beforeMs: 2_500, afterMs: 3_000 } as const;

/** Fields that the indexer, the sweep, probes and reconciles set on their own: not compared. */
export const NOT_COMPARED = {
  everywhere: ['pendingId', 'pendingEvent', 'gsi2pk', 'gsi2sk'],
  Registry: ['status', 'statusCheckedAt', 'statusMessage', 'lastSuccessAt', 'webhookCoverage', 'skipped', 'clockSkew', 'indexFailures'],
  Repository: ['indexedImage', 'indexedAudiences'],
  /** Index rows are derived from the truth by the indexer; the truth is compared. */
  skippedPartitions: ['AUDIENCE#'],
} as const;

const Ready = z.object({ url: z.string(), storeEndpoint: z.string(), tableName: z.string(), startedAt: z.number() });
type Ready = z.infer<typeof Ready>;

export type Answer = { status: number | 'timeout' | 'error'; body: string; error?: string };
/** A request as it went over the wire: what a reproduction needs. */
export type Sent = { method: string; path: string; headers: Record<string, string>; body?: string; bodyBase64?: string; bodyBytes: number };

/** The service process, and how to reach its store. */
class Target {
  private tail = '';
  private constructor(
    private readonly child: ChildProcess,
    readonly ready: Ready,
    readonly port: number,
    private readonly db: ReturnType<typeof createDocumentClient>,
  ) {
    child.stdout?.on('data', (d: Buffer) => this.keep(d));
    child.stderr?.on('data', (d: Buffer) => this.keep(d));
  }

  static async start(): Promise<Target> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fuzz/service.ts')], {
      cwd: ROOT,
      env: { ...process.env, FUZZ_JWT_SECRET: JWT_SECRET, POWERTOOLS_LOG_LEVEL: 'WARN' },
      // stdin stays open while the harness lives: the service stops when it closes (the harness died).
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fuzz service did not start in 60 s: ${out}`)), 60_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const line = /FUZZ_READY (.+)\n/.exec(out)?.[1];
        if (line) clearTimeout(timer), resolve(Ready.parse(JSON.parse(line)));
      });
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', (code) => reject(new Error(`fuzz service exited (${code}): ${out}`)));
    });
    const db = createDocumentClient(ready.storeEndpoint, 'local');
    return new Target(child, ready, Number(new URL(ready.url).port), db);
  }

  private keep(d: Buffer) {
    this.tail = (this.tail + d.toString()).slice(-8_000);
  }
  get exited() {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }
  /** Waits up to `ms` for the process to exit (an unanswered request may be a crash on its way). */
  async exit(ms: number) {
    for (const until = Date.now() + ms; !this.exited && Date.now() < until; ) await new Promise((r) => setTimeout(r, 25));
  }
  get output() {
    return this.tail;
  }

  send(sent: Sent, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Answer> {
    const body = sent.bodyBase64 !== undefined ? Buffer.from(sent.bodyBase64, 'base64') : sent.body !== undefined ? Buffer.from(sent.body, 'utf8') : undefined;
    const chunked = sent.headers['transfer-encoding'] === 'chunked';
    const headers = { connection: 'close', ...sent.headers, ...(body && !chunked ? { 'content-length': String(body.length) } : {}) };
    return new Promise<Answer>((resolve) => {
      try {
        const req = request({ host: '127.0.0.1', port: this.port, method: sent.method, path: sent.path, headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= 65_536) chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (e) => resolve({ status: 'error', body: '', error: e.message }));
        });
        req.setTimeout(timeoutMs, () => {
          resolve({ status: 'timeout', body: '' });
          req.destroy();
        });
        req.on('error', (e) => resolve({ status: 'error', body: '', error: e.message }));
        if (body && chunked) {
          req.write(body.subarray(0, Math.floor(body.length / 2)));
          req.end(body.subarray(Math.floor(body.length / 2)));
        } else req.end(body);
      } catch (e) {
        // Node refused to send it (a header or path it cannot put on the wire): the harness's fault, not the service's.
        resolve({ status: 'error', body: '', error: `client: ${String(e)}` });
      }
    });
  }

  async idle() {
    await this.send({ method: 'GET', path: '/__fuzz/idle', headers: {}, bodyBytes: 0 }, 60_000);
  }
  async logs(): Promise<string[]> {
    const answer = await this.send({ method: 'GET', path: '/__fuzz/logs', headers: {}, bodyBytes: 0 });
    const lines = z.array(z.string()).safeParse(answer.status === 200 ? JSON.parse(answer.body) : []);
    return lines.success ? lines.data.join('').split('\n').filter(Boolean) : [];
  }

  /** Every compared item of the table, by key, as stable JSON without the fields in `NOT_COMPARED`. */
  async snapshot(): Promise<Map<string, string>> {
    const items = new Map<string, string>();
    const raw = new Map<string, Record<string, unknown>>();
    RAW_ITEMS.set(items, raw);
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.ready.tableName,
          ExclusiveStartKey: start,
          ConsistentRead: true,
          // Index rows are not compared: filtered in the store, they cost neither transfer nor unmarshalling.
          FilterExpression: 'NOT begins_with(pk, :index)',
          ExpressionAttributeValues: { ':index': NOT_COMPARED.skippedPartitions[0] },
        }),
      );
      for (const item of page.Items ?? []) {
        const key = `${String(item.pk)} | ${String(item.sk)}`;
        if (NOT_COMPARED.skippedPartitions.some((p) => String(item.pk).startsWith(p))) continue;
        const type = String(item.entityType ?? '');
        const dropped = new Set<string>([...NOT_COMPARED.everywhere, ...(type === 'Registry' ? NOT_COMPARED.Registry : type === 'Repository' ? NOT_COMPARED.Repository : [])]);
        items.set(key, stable(Object.fromEntries(Object.entries(item).filter(([k]) => !dropped.has(k)))));
        raw.set(key, item);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Puts back the items a diff between two snapshots added, changed or removed, exactly as they were before. */
  async restore(before: Map<string, string>, after: Map<string, string>, diff: StoreDiff) {
    const was = RAW_ITEMS.get(before);
    const is = RAW_ITEMS.get(after);
    for (const key of diff.added) {
      const item = is?.get(key);
      if (item) await this.db.send(new DeleteCommand({ TableName: this.ready.tableName, Key: { pk: item.pk, sk: item.sk } }));
    }
    for (const key of [...diff.removed, ...diff.changed.map((c) => c.key)]) {
      const item = was?.get(key);
      if (item) await this.db.send(new PutCommand({ TableName: this.ready.tableName, Item: item }));
    }
  }

  async stop() {
    this.db.destroy();
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
      setTimeout(() => (this.exited ? undefined : this.child.kill('SIGKILL')), 5_000).unref();
    });
  }
}

/** The items of each snapshot as scanned, all fields kept, for putting them back (see `Target.restore`). */
const RAW_ITEMS = new WeakMap<Map<string, string>, Map<string, Record<string, unknown>>>();

const stable = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Set) return [...v].map(String).sort();
    if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)));
    return v;
  });

export type StoreDiff = { added: string[]; removed: string[]; changed: { key: string; fields: string[] }[] };
const diffOf = (before: Map<string, string>, after: Map<string, string>): StoreDiff => {
  const diff: StoreDiff = { added: [], removed: [], changed: [] };
  for (const [key, value] of after) {
    const old = before.get(key);
    if (old === undefined) diff.added.push(key);
    else if (old !== value) {
      const a = z.record(z.string(), z.unknown()).parse(JSON.parse(old));
      const b = z.record(z.string(), z.unknown()).parse(JSON.parse(value));
      const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((f) => stable(a[f]) !== stable(b[f]));
      diff.changed.push({ key, fields });
    }
  }
  for (const key of before.keys()) if (!after.has(key)) diff.removed.push(key);
  return diff;
};
const isEmpty = (d: StoreDiff) => !d.added.length && !d.removed.length && !d.changed.length;
/** `REPO#reg-…#space/app | TAG#v1` → `REPO/TAG`: what kind of item. */
const kindOf = (key: string) => key.replace(/#[^|]*/g, '').replace(/\s*\|\s*/g, '/');
const diffSummary = (d: StoreDiff) =>
  [...new Set([...d.added.map((k) => `added ${kindOf(k)}`), ...d.removed.map((k) => `removed ${kindOf(k)}`), ...d.changed.map((c) => `changed ${kindOf(c.key)} (${c.fields.join(', ')})`)])]
    .sort()
    .join('; ');

/** A registered registry of the world. */
type Reg = { id: string; host: string; secret: string };
/** What the placeholders of generated requests resolve to in one run of the service. */
export type World = {
  registries: Record<string, Reg>;
  tokens: Record<TokenName, string>;
  fakeHarborUrl: string;
  allowedHosts: Set<string>;
  /** How Harbor deliveries authenticate with this service: each project's own secret, or the registry's. */
  harborSecrets: 'per-project' | 'per-registry';
  /** The current admission token of each cluster, by name (the world's, and any a generated request registered). */
  clusters: Record<string, string>;
};

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const hs256 = (unsigned: string, secret: string) => `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
const tokens = (): Record<TokenName, string> => {
  const now = Math.floor(Date.now() / 1000);
  const day = 86_400;
  const admin = { sub: 'fuzz-admin', roles: ['platform-admin'], workspaces: [] };
  const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = (claims: Record<string, unknown>) => b64(JSON.stringify({ iat: now, exp: now + day, ...claims }));
  return {
    admin: signJwt(admin, JWT_SECRET, day),
    reader: signJwt({ sub: 'fuzz-reader', workspaces: ['w1'] }, JWT_SECRET, day),
    'reader-none': signJwt({ sub: 'fuzz-nobody' }, JWT_SECRET, day),
    'roles-string': signJwt({ sub: 'x', roles: 'viewer,platform-admin' }, JWT_SECRET, day),
    'roles-nested': signJwt({ sub: 'x', roles: [['platform-admin']] }, JWT_SECRET, day),
    'ws-string': signJwt({ sub: 'x', workspaces: 'w1' }, JWT_SECRET, day),
    'exp-huge': hs256(`${header}.${b64(JSON.stringify({ ...admin, exp: 1e300 }))}`, JWT_SECRET),
    'iat-future': hs256(`${header}.${payload({ ...admin, iat: now + 365 * day, exp: now + 366 * day })}`, JWT_SECRET),
    'nbf-future': hs256(`${header}.${payload({ ...admin, nbf: now + day })}`, JWT_SECRET),
    'no-sub': hs256(`${header}.${payload({ roles: ['platform-admin'] })}`, JWT_SECRET),
    padded: hs256(`${header}==.${payload(admin)}=`, JWT_SECRET),
    'std-b64': hs256(`${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT?>' })).toString('base64')}.${Buffer.from(JSON.stringify({ iat: now, exp: now + day, ...admin, x: '>>>???' })).toString('base64')}`, JWT_SECRET),
    'big-claims': signJwt({ ...admin, pad: 'x'.repeat(6_000) }, JWT_SECRET, day),
    expired: signJwt(admin, JWT_SECRET, -60),
    'alg-none': `${b64(JSON.stringify({ alg: 'none' }))}.${payload(admin)}.`,
    'wrong-secret': signJwt(admin, 'not-the-service-secret-0123456789', day),
  };
};

/** The secret a Harbor project's webhook policy carries (the contract the registration answer states). */
const projectSecret = (secret: string, project: string) => `${project}:${createHmac('sha256', secret).update(`harbor-project:${project}`).digest('base64url')}`;

const resolveText = (text: string, world: World, now: number) =>
  text
    .replace(/"«t-(s|ms):([+-]?\d+)»"/g, (_m, unit: string, off: string) => String(unit === 's' ? Math.floor(now / 1000) + Number(off) : now + Number(off) * 1000))
    .replace(/«([a-z-]+):([^»]*)»/g, (m, kind: string, arg: string) => {
      const [role = '', project = ''] = arg.split(':');
      const reg = world.registries[role];
      switch (kind) {
        case 'reg':
          return reg?.id ?? m;
        case 'host':
          return reg?.host ?? m;
        case 'secret':
          return reg?.secret ?? m;
        case 'psecret':
          return reg ? projectSecret(reg.secret, project) : m;
        case 'wsecret':
          return reg ? (world.harborSecrets === 'per-project' ? projectSecret(reg.secret, project) : reg.secret) : m;
        case 'tok':
          return world.tokens[z.enum(TOKEN_NAMES).safeParse(arg).data ?? 'admin'];
        case 'ctoken':
          return world.clusters[arg] ?? m;
        case 'url':
          return world.fakeHarborUrl;
        case 't-s':
          return String(Math.floor(now / 1000) + Number(arg));
        case 't-ms':
          return String(now + Number(arg) * 1000);
        case 't-iso':
          return new Date(now + Number(arg) * 1000).toISOString();
        default:
          return m;
      }
    });

/**
 * Rewrites every JSON string literal of a body that is an http(s) URL to a host outside the allowed loopback set
 * into a closed loopback port: whatever a mutation made of a body, the service is never sent towards another host.
 */
const confineUrls = (text: string, allowed: Set<string>) =>
  text.replace(/"(?:[^"\\]|\\.)*"/g, (literal) => {
    // A URL has a scheme; most literals have no colon, and skipping them keeps 100,000-key bodies cheap.
    if (!literal.includes(':')) return literal;
    let value: unknown;
    try {
      value = JSON.parse(literal);
    } catch {
      return literal;
    }
    if (typeof value !== 'string') return literal;
    try {
      const url = new URL(value);
      if (!/^https?:$/.test(url.protocol) || allowed.has(url.host)) return literal;
    } catch {
      return literal;
    }
    return '"http://127.0.0.1:9"';
  });

/** The request as it goes on the wire: placeholders resolved, URLs confined, path and headers made sendable. */
export const resolveRequest = (req: FuzzRequest, world: World, now = Date.now()): Sent => {
  const path = resolveText(req.path, world, now).replace(/[^\x21-\x7e]+/g, (run) => encodeURIComponent(run.replace(/[\ud800-\udfff]/g, '\ufffd')));
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, resolveText(v, world, now).replace(/[^\t\x20-\x7e]/g, '?')]));
  if (!req.body) return { method: req.method, path, headers, bodyBytes: 0 };
  if (req.body.encoding === 'utf8') {
    const body = confineUrls(resolveText(req.body.data, world, now), world.allowedHosts);
    return { method: req.method, path, headers, body, bodyBytes: Buffer.byteLength(body) };
  }
  // Binary bodies: placeholders are UTF-8 inside, the rest is kept byte for byte.
  const latin1 = Buffer.from(req.body.data, 'base64').toString('latin1');
  const resolved = latin1.replace(/"?\xc2\xab[^\xc2]*\xc2\xbb"?/g, (m) => Buffer.from(resolveText(Buffer.from(m, 'latin1').toString('utf8'), world, now), 'utf8').toString('latin1'));
  const bytes = Buffer.from(confineUrls(resolved, world.allowedHosts), 'latin1');
  return { method: req.method, path, headers, bodyBase64: bytes.toString('base64'), bodyBytes: bytes.length };
};

const Registered = z.object({ id: z.string(), host: z.string(), webhook: z.object({ secret: z.string() }) });

/** Registers the world the generated requests aim at, through the API, as an admin would. */
const setUp = async (target: Target, harbor: FakeHarbor): Promise<World> => {
  const world: World = {
    registries: {},
    tokens: tokens(),
    fakeHarborUrl: harbor.url,
    harborSecrets: 'per-project',
    clusters: {},
    allowedHosts: new Set([...CLOSED_PORTS.flatMap((p) => [`127.0.0.1:${p}`, `[::1]:${p}`]), new URL(harbor.url).host]),
  };
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${world.tokens.admin}` }) => {
    const answer = await target.send({
      method,
      path,
      headers: { ...headers, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      bodyBytes: 0,
    });
    if (typeof answer.status !== 'number' || answer.status >= 300) throw new Error(`fuzz set-up: ${method} ${path} answered ${answer.status} ${answer.body}`);
    return answer.body ? z.unknown().parse(JSON.parse(answer.body)) : undefined;
  };
  const register = async (role: string, body: Record<string, unknown>) => {
    const r = Registered.parse(await call('POST', '/api/v1/registries', { name: role, ...body }));
    world.registries[role] = { id: r.id, host: r.host, secret: r.webhook.secret };
    return r;
  };
  await register('dr', { kind: 'docker-registry', mode: 'integrated', url: 'http://127.0.0.1:9' });
  await register('hb', { kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials });
  await register('hi', { kind: 'harbor', mode: 'integrated', url: 'http://127.0.0.1:1' });
  for (const [i, role] of REGISTRY_ROLES.sacrificial.entries()) await register(role, { kind: 'docker-registry', mode: 'integrated', url: `http://127.0.0.1:${2 + i}` });
  await populate(target, world, true);
  return world;
};

/**
 * The clusters of the world (see `CLUSTER_ROLES`): `c` holds the namespaces and refuses unmanaged images, `prod`
 * audits, `sac` is deleted and rotated by generated requests.
 */
const CLUSTER_SETTINGS: Record<ClusterName, Record<string, unknown>> = {
  c: { unmanagedImages: 'deny', mode: 'enforce', exemptNamespaces: ['default'] },
  prod: { displayName: 'Production', unmanagedImages: 'allow', mode: 'audit' },
  sac: { unmanagedImages: 'deny' },
};
/** The admission token an answer shows: a registration (201) or a rotation. */
const AdmissionTokenShown = z.object({ cluster: z.string(), admissionToken: z.string() });

/**
 * Registers the clusters, or puts their settings back (a deleted one comes back with a new token; an existing one
 * keeps its token, so one rotated by a generated request keeps the token the harness picked up then).
 */
const putClusters = async (target: Target, world: World, strict: boolean) => {
  for (const cluster of [...CLUSTER_ROLES.core, ...CLUSTER_ROLES.sacrificial]) {
    const answer = await target.send({
      method: 'PUT',
      path: `/api/v1/clusters/${cluster}`,
      headers: { authorization: `Bearer ${world.tokens.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(CLUSTER_SETTINGS[cluster]),
      bodyBytes: 0,
    });
    if (strict && answer.status !== 201) throw new Error(`fuzz set-up: PUT /api/v1/clusters/${cluster} answered ${answer.status} ${answer.body}`);
    pickUpAdmissionToken(world, answer);
  }
};
const pickUpAdmissionToken = (world: World, answer: Answer) => {
  const shown = AdmissionTokenShown.safeParse(safeJson(answer.body)).data;
  if (shown) world.clusters[shown.cluster] = shown.admissionToken;
};

/**
 * Workspaces, namespaces, spaces, a binding and a tag in each of `dr` and `hb`: at set-up (each must succeed) and
 * again every `REPLENISH_EVERY` requests (whatever they answer), since generated deletes wear the world down and
 * requests into an empty world stop at 404.
 */
const populate = async (target: Target, world: World, strict: boolean) => {
  const call = async (method: string, path: string, body?: unknown, auth = `Bearer ${world.tokens.admin}`) => {
    const answer = await target.send({ method, path, headers: { authorization: auth, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), bodyBytes: 0 });
    const ok = typeof answer.status === 'number' && answer.status < 300;
    if (strict && !ok) throw new Error(`fuzz set-up: ${method} ${path} answered ${answer.status} ${answer.body}`);
    return ok;
  };
  const dr = world.registries.dr;
  const hb = world.registries.hb;
  if (!dr || !hb) throw new Error('fuzz set-up: registries dr and hb are missing');
  for (const w of ['w1', 'w2']) await call('PUT', `/api/v1/workspaces/${w}`, { displayName: w });
  await putClusters(target, world, strict);
  await call('PUT', '/api/v1/clusters/c/namespaces/n1', { workspaceId: 'w1' });
  await call('PUT', '/api/v1/clusters/c/namespaces/n2', { workspaceId: 'w2' });
  await call('PUT', '/api/v1/clusters/c/namespaces/n3', { workspaceId: null });
  // Later times they exist already and answer 409, which is fine.
  await call('POST', `/api/v1/registries/${hb.id}/spaces`, { name: 'team', visibility: 'private' });
  await call('POST', `/api/v1/registries/${hb.id}/spaces`, { name: 'shared', visibility: 'public' });
  await call('PUT', `/api/v1/registries/${hb.id}/spaces/team/bindings/w1`);
  const digest = `sha256:${'a'.repeat(64)}`;
  await call('POST', `/webhooks/distribution/${dr.id}`, { events: [{ id: 'e1', timestamp: new Date().toISOString(), action: 'push', target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', repository: 'space/app', tag: '1.0', digest } }] }, `Bearer ${dr.secret}`);
  for (const [project, repo] of [['library', 'app'], ['team', 'api']] as const) {
    const push = { type: 'PUSH_ARTIFACT', occur_at: Math.floor(Date.now() / 1000), operator: 'admin', event_data: { resources: [{ digest, tag: 'v1', resource_url: `${hb.host}/${project}/${repo}:v1` }], repository: { name: repo, namespace: project, repo_full_name: `${project}/${repo}`, repo_type: 'private' } } };
    // The project's own secret (per-project secrets), else the registry's (before them).
    const perProject = await call('POST', `/webhooks/harbor/${hb.id}`, push, `Bearer ${projectSecret(hb.secret, project)}`).catch(() => false);
    if (!perProject && (await call('POST', `/webhooks/harbor/${hb.id}`, push, `Bearer ${hb.secret}`))) world.harborSecrets = 'per-registry';
  }
  await target.idle();
  await target.logs();
};
const REPLENISH_EVERY = 150;
/** FUZZ_TRACE=<regex of function names>: log every request to them with its answer (while developing generators). */
const TRACE = process.env.FUZZ_TRACE ? new RegExp(process.env.FUZZ_TRACE) : undefined;

/** Log messages of work the service does after answering, or on its own. */
const BACKGROUND_LOG = /event delivery failed|scheduled run failed/;
const LogLine = z.object({ level: z.string(), message: z.string() }).loose();
/** The error lines of the service's log, each with its error message and the first frame in this repository. */
const errorsIn = (lines: string[]) =>
  lines.flatMap((line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return /error/i.test(line) ? [{ message: line.slice(0, 300), error: '', frame: '' }] : [];
    }
    const log = LogLine.safeParse(parsed);
    if (!log.success || log.data.level !== 'ERROR') return [];
    const raw = log.data.error;
    const error = typeof raw === 'string' ? raw : z.object({ message: z.string().optional(), stack: z.string().optional() }).loose().safeParse(raw).data;
    const text = typeof error === 'string' ? error : (error?.message ?? JSON.stringify(raw ?? ''));
    const stack = typeof error === 'string' ? error : (error?.stack ?? '');
    const frame = /(?:file:\/\/)?\/[^\s()]*?\/((?:shared|functions|web|events)\/[^\s():]+)/.exec(stack)?.[1] ?? '';
    return [{ message: log.data.message, error: text.slice(0, 2_000), frame }];
  });
const ZodIssues = z.array(z.object({ code: z.string(), path: z.array(z.union([z.string(), z.number()])), message: z.string() }).loose()).min(1);
/** Numbers, ids and quoted values vary between occurrences of one cause; a zod error is told by its issues. */
const normalise = (s: string) => {
  const issues = ZodIssues.safeParse(safeJson(s.replace(/^ZodError:\s*/, '')));
  const text = issues.success ? `ZodError ${issues.data.map((i) => `${i.path.map((p) => (typeof p === 'number' ? 'N' : p)).join('.')}: ${i.code} ${i.message}`).join('; ')}` : s;
  return text
    .replace(/\s+/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/reg-[a-z0-9]+/g, 'reg-…')
    .replace(/[0-9a-f]{8,}/g, 'H')
    .replace(/\d+/g, 'N')
    .slice(0, 200);
};

export type FindingKind = '5xx' | 'no answer' | 'crash' | 'store change' | 'accepted without credentials' | 'background error';
export type Finding = {
  kind: FindingKind;
  /** What tells this cause apart from others: kind, error and code location, or what it changed. */
  signature: string;
  status: Answer['status'] | 'n/a';
  detail: string;
  /** The smallest request found that shows it (shrunk by fast-check when `shrunk`). */
  request: Sent;
  routes: Set<string>;
  count: number;
  shrunk: boolean;
};
type Outcome = { answer: Answer; findings: Finding[] };

export type FuzzOptions = {
  runs: number;
  seed?: number;
  /** Property runs fast-check may spend shrinking each new finding. */
  shrinkRuns?: number;
  /** After this many distinct findings, stop shrinking (the rest are still counted). */
  maxShrunk?: number;
  batchSize?: number;
  log?: (line: string) => void;
};
export type FuzzReport = {
  seeds: { seed: number; runs: number; failed: boolean }[];
  requests: number;
  shrinkRequests: number;
  perRoute: Record<string, number>;
  statuses: Record<string, number>;
  statusesByRoute: Record<string, Record<string, number>>;
  /** Mean time to answer, by route. */
  sendMsByRoute: Record<string, number>;
  /** Where the time went (ms): sending, scanning the store, draining the bus and reading logs, pausing around ticks. */
  ms: Record<string, number>;
  /** Answers ≥ 500 other than the contract's upstream answers (see `isUpstreamAnswer`). */
  atLeast500: number;
  upstream: number;
  /** Compared items in the store at the end (index rows not counted). */
  storeItems: number;
  noAnswer: number;
  rejectedWatched: number;
  rejectedChangedStore: number;
  /** Reviews answered 200, by verdict (`unreadable`: not an AdmissionReview answer with a boolean `allowed`). */
  admissionVerdicts: AdmissionVerdicts;
  crashes: number;
  alive: boolean;
  findings: Finding[];
  seconds: number;
};

type AdmissionVerdicts = { allowed: number; refused: number; unreadable: number };
const ReviewAnswer = z.object({ response: z.object({ allowed: z.boolean() }) });
const verdictOf = (answer: Answer): keyof AdmissionVerdicts => {
  const allowed = ReviewAnswer.safeParse(safeJson(answer.body)).data?.response.allowed;
  return allowed === undefined ? 'unreadable' : allowed ? 'allowed' : 'refused';
};

/** Sends requests and watches the store; collects findings. */
class Engine {
  batch: FuzzRequest[] = [];
  /** How many of the batch were rejected (accepted GETs ride along: they must not change anything either). */
  batchRejected = 0;
  baseline: { items: Map<string, string>; at: number } | undefined;
  lastAccepted: Sent | undefined;
  /** The request answered before the current one: a crash right after its answer shows on the next. */
  previous: Sent | undefined;
  replenishedAt = 0;
  readonly findings = new Map<string, Finding>();
  readonly perRoute: Record<string, number> = Object.fromEntries(ROUTE_LIST.map((r) => [`${r.method} ${r.path}`, 0]));
  readonly statuses: Record<string, number> = {};
  readonly statusesByRoute: Record<string, Record<string, number>> = {};
  readonly sendMsByRoute: Record<string, number> = {};
  readonly ms = { send: 0, scan: 0, settle: 0, pause: 0, resolve: 0, execute: 0 };
  requests = 0;
  shrinkRequests = 0;
  atLeast500 = 0;
  upstream = 0;
  noAnswer = 0;
  rejectedWatched = 0;
  rejectedChangedStore = 0;
  readonly admissionVerdicts: AdmissionVerdicts = { allowed: 0, refused: 0, unreadable: 0 };
  crashes = 0;

  constructor(
    public target: Target,
    public world: World,
    private readonly harbor: FakeHarbor,
    private readonly batchSize: number,
    private readonly log: (line: string) => void,
  ) {}

  private nearTick(from: number, to: number) {
    const start = this.target.ready.startedAt;
    for (let k = Math.max(1, Math.floor((from - start) / TICK_MS)); start + k * TICK_MS - TICK_GUARD.beforeMs <= to; k++)
      if (start + k * TICK_MS + TICK_GUARD.afterMs >= from) return start + k * TICK_MS;
    return undefined;
  }

  /** Waits out a schedule tick that is about to come (watched windows never span one). */
  private async clearOfTicks() {
    const now = Date.now();
    const tick = this.nearTick(now, now + 500);
    if (tick === undefined) return;
    await this.closeBatch();
    const wait = tick + TICK_GUARD.afterMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.ms.pause += Math.max(0, wait);
    this.baseline = undefined;
  }

  private async snapshot() {
    const t0 = Date.now();
    const items = await this.target.snapshot();
    this.ms.scan += Date.now() - t0;
    return items;
  }

  /** Drains the bus; with `logs`, also reads what the service logged meanwhile and records its errors. */
  private async settle(logs = true) {
    const t0 = Date.now();
    await this.target.idle();
    const lines = logs ? await this.target.logs() : [];
    this.ms.settle += Date.now() - t0;
    for (const e of errorsIn(lines)) this.recordBackground(e);
  }

  /** An error the service logged outside a request's answer (bus deliveries, schedules), tied to the last accepted request. */
  private recordBackground(e: { message: string; error: string; frame: string }) {
    const signature = `background error | ${e.message} | ${normalise(e.error)} | ${e.frame}`;
    this.record({ kind: 'background error', signature, status: 'n/a', detail: `${e.message}: ${e.error}`, request: this.lastAccepted ?? emptySent, routes: new Set(), count: 0, shrunk: false }, 'background');
  }

  private async freshBaseline() {
    if (this.baseline && this.nearTick(this.baseline.at, Date.now()) === undefined) return this.baseline;
    await this.settle();
    this.baseline = { items: await this.snapshot(), at: Date.now() };
    return this.baseline;
  }

  private record(f: Finding, route: string) {
    const known = this.findings.get(f.signature);
    if (known) {
      known.count++;
      known.routes.add(route);
      return known;
    }
    f.count = 1;
    f.routes.add(route);
    this.findings.set(f.signature, f);
    this.log(`  new finding: ${f.signature}`);
    return f;
  }

  private async restart() {
    this.crashes++;
    await this.target.stop();
    this.target = await Target.start();
    this.world = await setUp(this.target, this.harbor);
    this.batch = [];
    this.batchRejected = 0;
    this.baseline = undefined;
    this.previous = undefined;
  }

  /** Sends one request and checks what can be checked at once; store checks of batched requests come later. */
  async execute(req: FuzzRequest, shrinking: boolean): Promise<Outcome> {
    const started = Date.now();
    try {
      return await this.executeTimed(req, shrinking);
    } finally {
      this.ms.execute += Date.now() - started;
    }
  }

  private async executeTimed(req: FuzzRequest, shrinking: boolean): Promise<Outcome> {
    await this.clearOfTicks();
    if (!shrinking && this.requests > 0 && this.requests % REPLENISH_EVERY === 0 && this.replenishedAt !== this.requests) {
      await this.closeBatch();
      await populate(this.target, this.world, false);
      this.replenishedAt = this.requests;
      this.baseline = undefined;
    }
    const watched = req.method !== 'GET' && req.auth !== 'bad';
    if (watched || this.batch.length >= this.batchSize) await this.closeBatch();
    const before = await this.freshBaseline();
    const tr = Date.now();
    const sent = resolveRequest(req, this.world);
    this.ms.resolve += Date.now() - tr;
    const t0 = Date.now();
    const answer = await this.target.send(sent);
    this.ms.send += Date.now() - t0;
    if (!shrinking) this.sendMsByRoute[req.route] = (this.sendMsByRoute[req.route] ?? 0) + Date.now() - t0;
    const findings: Finding[] = [];
    if (TRACE && TRACE.test(req.fn)) this.log(`  trace ${shrinking ? '(shrinking) ' : ''}${answer.status} ${answer.body.slice(0, 300)}\n${formatRequest(sent).slice(0, 1_500)}`);
    const upstream = isUpstreamAnswer(answer);
    if (answer.status === 'error' && headBytes(sent) > MAX_HEAD_BYTES) answer.status = 431;
    if (shrinking) this.shrinkRequests++;
    else {
      this.requests++;
      this.perRoute[req.route] = (this.perRoute[req.route] ?? 0) + 1;
      this.statuses[String(answer.status)] = (this.statuses[String(answer.status)] ?? 0) + 1;
      const byRoute = (this.statusesByRoute[req.route] ??= {});
      byRoute[String(answer.status)] = (byRoute[String(answer.status)] ?? 0) + 1;
      if (upstream) this.upstream++;
      else if (typeof answer.status === 'number' && answer.status >= 500) this.atLeast500++;
      if (typeof answer.status !== 'number') this.noAnswer++;
      if (req.fn === 'review-admission' && answer.status === 200) this.admissionVerdicts[verdictOf(answer)]++;
    }
    const found = (f: Omit<Finding, 'routes' | 'count' | 'shrunk'>) => findings.push(shrinking ? { ...f, routes: new Set([req.route]), count: 0, shrunk: true } : this.record({ ...f, routes: new Set(), count: 0, shrunk: false }, req.route));

    if (typeof answer.status !== 'number') await this.target.exit(1_000);
    if (this.target.exited) {
      const output = this.target.output;
      const crash = /FUZZ_CRASH ([^\n]*)((?:\n\s+at [^\n]*)*)/.exec(output);
      const frame = crash ? (/((?:shared|functions|web|events)\/[^\s():]+)/.exec(crash[2] ?? '')?.[1] ?? '') : '';
      const signature = crash ? `crash | ${normalise(crash[1] ?? '')} | ${frame}` : `crash | ${normalise(output.slice(-200))}`;
      const before = this.previous ? `right after answering:\n${formatRequest(this.previous)}\nor while answering this request. ` : '';
      found({ kind: 'crash', signature, status: answer.status, detail: `the process exited ${before}Its last output:\n${output.slice(-3_000)}`, request: sent });
      await this.restart();
      return { answer, findings };
    }
    this.previous = sent;
    if (!upstream && (typeof answer.status !== 'number' || answer.status >= 500)) {
      const errors = errorsIn(await this.target.logs());
      // The log since the last read may also hold errors of background work: the request's own is its last other one.
      const own = errors.filter((x) => !BACKGROUND_LOG.test(x.message));
      const e = own[own.length - 1] ?? errors[errors.length - 1];
      for (const b of errors.filter((x) => x !== e)) this.recordBackground(b);
      const kind: FindingKind = typeof answer.status === 'number' ? '5xx' : 'no answer';
      const signature = e ? `${kind} ${answer.status} | ${e.message} | ${normalise(e.error)} | ${e.frame}` : `${kind} ${answer.status} | ${req.fn} | ${normalise(answer.error ?? answer.body)}`;
      found({ kind, signature, status: answer.status, detail: e ? `${e.message}: ${e.error}` : (answer.error ?? answer.body).slice(0, 500), request: sent });
    }
    const rejected = typeof answer.status !== 'number' || answer.status >= 400;
    if (watched) {
      if (rejected) {
        await this.settle(false);
        const after = await this.snapshot();
        const diff = diffOf(before.items, after);
        if (!shrinking) this.rejectedWatched++;
        if (!isEmpty(diff)) {
          if (!shrinking) this.rejectedChangedStore++;
          found({ kind: 'store change', signature: storeSignature(req, answer), status: answer.status, detail: `${diffSummary(diff)}\n${diffDetail(diff, before.items, after)}`, request: sent });
        }
        this.baseline = { items: after, at: Date.now() };
      } else {
        this.lastAccepted = sent;
        this.pickUpSecret(sent, answer);
        this.baseline = undefined;
      }
    } else if (!rejected && req.method !== 'GET') {
      found({ kind: 'accepted without credentials', signature: `accepted without credentials | ${req.fn} ${answer.status}`, status: answer.status, detail: answer.body.slice(0, 500), request: sent });
      this.batch = [];
      this.batchRejected = 0;
      this.baseline = undefined;
    } else {
      this.batch.push(req);
      if (rejected) this.batchRejected++;
    }
    return { answer, findings };
  }

  /** A rotation answer shows a registry's new webhook secret, a registration or rotation a cluster's token: later requests use it. */
  private pickUpSecret(sent: Sent, answer: Answer) {
    pickUpAdmissionToken(this.world, answer);
    const secret = z.object({ webhook: z.object({ secret: z.string() }) }).safeParse(safeJson(answer.body)).data?.webhook.secret;
    if (!secret) return;
    for (const reg of Object.values(this.world.registries)) if (sent.path.includes(`/${reg.id}/`)) reg.secret = secret;
  }

  /**
   * Checks the store after a batch of unwatched requests. A change is traced to its request by putting the changed
   * items back as they were and replaying the batch one by one (a change may happen only the first time).
   */
  async closeBatch() {
    const batch = this.batch;
    const rejectedInBatch = this.batchRejected;
    this.batch = [];
    this.batchRejected = 0;
    if (!batch.length || !this.baseline) return;
    const before = this.baseline;
    await this.settle();
    const after = await this.snapshot();
    this.baseline = { items: after, at: Date.now() };
    this.rejectedWatched += rejectedInBatch;
    const diff = diffOf(before.items, after);
    if (isEmpty(diff)) return;
    this.log(`  a batch of ${batch.length} changed the store (${diffSummary(diff)}); replaying it one by one`);
    await this.target.restore(before.items, after, diff);
    this.baseline = undefined;
    let traced = false;
    for (const req of batch) {
      const base = await this.freshBaseline();
      const sent = resolveRequest(req, this.world);
      const answer = await this.target.send(sent);
      this.shrinkRequests++;
      await this.settle();
      const now = await this.snapshot();
      this.baseline = { items: now, at: Date.now() };
      const d = diffOf(base.items, now);
      if (isEmpty(d)) continue;
      traced = true;
      this.rejectedChangedStore++;
      this.record({ kind: 'store change', signature: storeSignature(req, answer), status: answer.status, detail: `${diffSummary(d)}\n${diffDetail(d, base.items, now)}`, request: sent, routes: new Set(), count: 0, shrunk: false }, req.route);
    }
    if (!traced) {
      this.rejectedChangedStore++;
      this.record({ kind: 'store change', signature: `store change | batch | ${diffSummary(diff)}`, status: 'n/a', detail: `not reproduced one by one; the batch:\n${batch.map((r) => `${r.method} ${r.path}`).join('\n')}\n${diffDetail(diff, before.items, after)}`, request: emptySent, routes: new Set(), count: 0, shrunk: false }, 'batch');
    }
  }

  async alive() {
    if (this.target.exited) return false;
    const health = await this.target.send({ method: 'GET', path: '/health', headers: {}, bodyBytes: 0 });
    return health.status === 200;
  }
}

/**
 * The contract's answers for a registry that is down (503 UPSTREAM_UNAVAILABLE) or refused (502 UPSTREAM_REFUSED):
 * the world has such registries on purpose (closed ports), so these are counted apart, not as failures.
 */
const isUpstreamAnswer = (answer: Answer) =>
  (answer.status === 502 || answer.status === 503) && z.object({ error: z.enum(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_REFUSED']) }).safeParse(safeJson(answer.body)).success;
/** Node's HTTP server answers 431 to a larger head and closes at once, so a client still sending may read a reset instead. */
const MAX_HEAD_BYTES = 16_384;
const headBytes = (s: Sent) => s.method.length + s.path.length + Object.entries(s.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0) + 12;

/** One cause per function and answer: what exactly changed varies with the request (see the finding's detail). */
const storeSignature = (req: FuzzRequest, answer: Answer) => `store change | ${req.fn} answered ${answer.status}`;

const emptySent: Sent = { method: '', path: '', headers: {}, bodyBytes: 0 };
const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
const diffDetail = (d: StoreDiff, before: Map<string, string>, after: Map<string, string>) =>
  [
    ...d.added.slice(0, 5).map((k) => `+ ${k}: ${(after.get(k) ?? '').slice(0, 600)}`),
    ...d.removed.slice(0, 5).map((k) => `- ${k}: ${(before.get(k) ?? '').slice(0, 600)}`),
    ...d.changed.slice(0, 5).map((c) => `~ ${c.key} [${c.fields.join(', ')}]\n    before: ${(before.get(c.key) ?? '').slice(0, 600)}\n    after:  ${(after.get(c.key) ?? '').slice(0, 600)}`),
  ].join('\n');

/**
 * Runs the fuzz: `runs` generated requests over every route (plus the requests spent shrinking and replaying), and
 * returns the counts and the distinct findings. The service and the fake Harbor are stopped at the end.
 */
export const runFuzz = async (opts: FuzzOptions): Promise<FuzzReport> => {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const harbor = await startFakeHarbor();
  const target = await Target.start().catch(async (e: unknown) => {
    await harbor.close();
    throw e;
  });
  const world = await setUp(target, harbor).catch(async (e: unknown) => {
    await target.stop();
    await harbor.close();
    throw e;
  });
  const engine = new Engine(target, world, harbor, opts.batchSize ?? 40, log);
  const seeds: FuzzReport['seeds'] = [];
  const shrinkRuns = opts.shrinkRuns ?? 150;
  const maxShrunk = opts.maxShrunk ?? 30;
  let seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  try {
    while (engine.requests < opts.runs) {
      const shrinkAllowed = [...engine.findings.values()].filter((f) => f.shrunk).length < maxShrunk;
      let goal: string | undefined;
      let budget = shrinkRuns;
      let last: Finding | undefined;
      const property = fc.asyncProperty(anyRequest, async (req) => {
        if (goal !== undefined && budget-- <= 0) return true;
        const before = new Set(engine.findings.keys());
        const { findings } = await engine.execute(req, goal !== undefined);
        if (goal === undefined) {
          if (!shrinkAllowed) return true;
          // A crash or a background error is not tied to one request alone: it is reported, not shrunk.
          const fresh = findings.find((f) => !before.has(f.signature) && f.kind !== 'background error' && f.kind !== 'crash');
          if (!fresh) return true;
          goal = fresh.signature;
          last = fresh;
          return false;
        }
        const again = findings.find((f) => f.signature === goal);
        if (again) last = again;
        return !again;
      });
      const remaining = opts.runs - engine.requests;
      log(`fast-check seed ${seed}: up to ${remaining} requests`);
      const details = await fc.check(property, { seed, numRuns: remaining });
      seeds.push({ seed, runs: details.numRuns, failed: details.failed });
      if (details.failed && goal !== undefined && last) {
        const known = engine.findings.get(goal);
        if (known) (known.request = last.request), (known.shrunk = true);
        log(`  counterexample after ${details.numShrinks} shrinks (seed ${seed}, path ${details.counterexamplePath ?? ''}): ${JSON.stringify(last.request).slice(0, 1_000)}`);
      }
      if (!details.failed) break;
      seed = (seed + 1) % 2 ** 31;
    }
    await engine.closeBatch();
    const alive = await engine.alive();
    const storeItems = engine.target.exited ? 0 : (await engine.target.snapshot()).size;
    return {
      seeds,
      requests: engine.requests,
      shrinkRequests: engine.shrinkRequests,
      perRoute: engine.perRoute,
      statuses: engine.statuses,
      statusesByRoute: engine.statusesByRoute,
      sendMsByRoute: engine.sendMsByRoute,
      ms: engine.ms,
      atLeast500: engine.atLeast500,
      upstream: engine.upstream,
      storeItems,
      noAnswer: engine.noAnswer,
      rejectedWatched: engine.rejectedWatched,
      rejectedChangedStore: engine.rejectedChangedStore,
      admissionVerdicts: engine.admissionVerdicts,
      crashes: engine.crashes,
      alive,
      findings: [...engine.findings.values()],
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await engine.target.stop();
    await harbor.close();
  }
};

/** A request as a reproduction: method and path, then headers, then the body (cut when long). */
export const formatRequest = (s: Sent) => {
  const body =
    s.bodyBase64 !== undefined
      ? `body (${s.bodyBytes} bytes, base64): ${s.bodyBase64.length > 3_000 ? `${s.bodyBase64.slice(0, 3_000)}…` : s.bodyBase64}`
      : s.body !== undefined
        ? `body (${s.bodyBytes} bytes): ${JSON.stringify(s.body.length > 3_000 ? `${s.body.slice(0, 3_000)}…` : s.body)}`
        : 'no body';
  const headers = Object.entries(s.headers).map(([k, v]) => `    ${k}: ${v.length > 200 ? `${v.slice(0, 200)}… (${v.length} chars)` : v}`);
  return [`    ${s.method} ${s.path.length > 500 ? `${s.path.slice(0, 500)}… (${s.path.length} chars)` : s.path}`, ...headers, `    ${body}`].join('\n');
};

/** The report as text: counts, then every distinct finding with its reproduction. */
export const formatReport = (r: FuzzReport) => {
  const lines = [
    `fuzz: ${r.requests} generated requests (+${r.shrinkRequests} shrinking/replaying) in ${r.seconds} s; fast-check seeds ${r.seeds.map((s) => `${s.seed} (${s.runs} runs${s.failed ? ', shrunk' : ''})`).join(', ')}`,
    'requests per route:',
    ...Object.entries(r.perRoute).map(
      ([route, n]) =>
        `  ${String(n).padStart(6)}  ${route.padEnd(88)} ${String(Math.round((r.sendMsByRoute[route] ?? 0) / Math.max(1, n))).padStart(4)} ms  ${Object.entries(r.statusesByRoute[route] ?? {})
          .map(([s, c]) => `${s}:${c}`)
          .join(' ')}`,
    ),
    `statuses: ${Object.entries(r.statuses)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')}`,
    `store: ${r.storeItems} compared items at the end; time (ms): ${Object.entries(r.ms).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `responses >= 500: ${r.atLeast500} (besides ${r.upstream} documented 502/503 for a registry that is down or refused); unanswered: ${r.noAnswer}; crashes: ${r.crashes}; alive at the end (GET /health 200): ${r.alive}`,
    `rejected requests whose store check ran: ${r.rejectedWatched}; of them changed the store: ${r.rejectedChangedStore}`,
    `admission reviews answered 200: allowed ${r.admissionVerdicts.allowed}, refused ${r.admissionVerdicts.refused}, unreadable ${r.admissionVerdicts.unreadable}`,
    `distinct findings: ${r.findings.length}`,
  ];
  for (const [i, f] of r.findings.entries()) {
    lines.push(`#${i + 1} [${f.kind}] ${f.signature}`);
    lines.push(`  seen ${f.count}× on ${[...f.routes].join(', ')}; ${f.shrunk ? 'shrunk' : 'first seen'} reproduction (answered ${f.status}):`);
    lines.push(formatRequest(f.request));
    lines.push(`  detail: ${f.detail.split('\n').join('\n    ').slice(0, 2_500)}`);
  }
  return lines.join('\n');
};
