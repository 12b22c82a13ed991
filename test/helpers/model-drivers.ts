import { z } from 'zod';
import type { BusEvent } from '../../events/contract.ts';
import type { Cluster } from '../../shared/domain/admission.ts';
import type { Registry } from '../../shared/domain/model.ts';
import { DomainError } from '../../shared/errors.ts';
import type { Claims } from '../../shared/http/claims.ts';
import type { Store } from '../../shared/store/index.ts';
import { AdmissionReviewV1 } from '../../shared/kubernetes/admission-review.ts';
import { reviewAdmission } from '../../shared/usecases/admission.ts';
import { authenticateCluster, putCluster } from '../../shared/usecases/clusters.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { listImages } from '../../shared/usecases/selector.ts';
import { bindSpace, createSpace, deleteSpace, unbindSpace, updateSpace } from '../../shared/usecases/spaces.ts';
import { getPullSecret } from '../../shared/usecases/pull-secret.ts';
import { sweepPending } from '../../shared/usecases/sweep.ts';
import { DEFAULT_PULL_ACCESS, robotNameOf } from '../../shared/domain/pull-access.ts';
import { INDEX_BATCH_SIZE, INDEXER_FN } from '../../shared/topology.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { harborProjectSecret } from '../../shared/usecases/webhook-secrets.ts';
import { applyRegistryChanges, receiveWebhook } from '../../shared/usecases/webhooks.ts';
import { agreeableRegistryApi, consumeBatch, ctx, testDeps } from './deps.ts';
import { fixture } from './fixtures.ts';
import { authsOf } from './pull-secrets.ts';
import type { FakeHarbor } from './fake-harbor.ts';
import type { Worker } from './jittery-table.ts';
import type { Service } from './service.ts';
import { WORKSPACES, type Change, type Driver } from './model-run.ts';
import { OWNER, type Outcome, type RegOf, type SelectorItem } from './reference-model.ts';

const admin: Claims = { sub: 'model', roles: ['platform-admin'], workspaces: [] };

const POD_CREATE = AdmissionReviewV1.parse(fixture('kubernetes/admissionreview-v1-pod-create.json'));
const PodObject = z.looseObject({ metadata: z.looseObject({}), spec: z.looseObject({ containers: z.array(z.looseObject({})).min(1) }) });

/** The captured Pod CREATE, moved to namespace `ns`, with one container (the fixture's first) running `image` and no init containers. */
export const podReview = (ns: string, image: string): AdmissionReviewV1 => {
  const pod = PodObject.parse(POD_CREATE.request.object);
  const spec = { ...pod.spec, initContainers: [], containers: [{ ...pod.spec.containers[0], image }] };
  return AdmissionReviewV1.parse({ ...POD_CREATE, request: { ...POD_CREATE.request, namespace: ns, object: { ...pod, metadata: { ...pod.metadata, namespace: ns }, spec } } });
};

const outcome = async (run: () => Promise<unknown>): Promise<Outcome> => {
  try {
    await run();
    return 'ok';
  } catch (error) {
    if (error instanceof DomainError && (error.code === 'NOT_FOUND' || error.code === 'CONFLICT' || error.code === 'BAD_REQUEST')) return error.code;
    throw error;
  }
};

/** The one consumer whose deliveries may overlap (serialising a space is its own job); every other one is serial. */
const toIndexer = (fn: string) => fn === INDEXER_FN;
const notToIndexer = (fn: string) => fn !== INDEXER_FN;
/** Deliveries to the indexer that run at once: it must stay right however they interleave. */
const INDEX_WORKERS = 4;
/**
 * How long a stalled delivery stays paused at most: longer than what is left of a sequence after it, mostly (so it
 * often writes last), and well within what a use of a deleted space's name waits for the space's holder.
 */
const STALL_MS = 1000;

/**
 * Deliveries of events by `run` (to the consumers `only` admits), each run as `worker` runs it (a delay at every
 * store call). Up to `INDEX_WORKERS` deliveries to the indexer run at once and go on while later steps run; every
 * other consumer (pull access: its robots must never be synced twice at once) takes its events one at a time, in
 * the order they started. A stalled delivery to the indexer pauses at a store call for `STALL_MS`, or until
 * `resume` if that comes first, and holds no worker meanwhile. A failed delivery fails the next `start`, `idle` or
 * `resume`.
 */
const deliveries = (run: (events: readonly BusEvent[], only: (fn: string) => boolean) => Promise<unknown>, worker: Worker) => {
  const indexing = new Set<Promise<void>>();
  const paused: { done: Promise<void>; release: () => void; timer: NodeJS.Timeout }[] = [];
  let serial = Promise.resolve();
  const failures: unknown[] = [];
  const noted = (delivery: Promise<unknown>) => delivery.then(() => undefined, (error: unknown) => void failures.push(error));
  const rethrow = () => {
    if (failures.length) throw failures[0];
  };
  return {
    /**
     * Starts delivering `events` (to the indexer as one batch, as its queue hands them over); with `stallAt`, the
     * delivery to the indexer pauses at that store call.
     */
    async start(events: readonly BusEvent[], stallAt?: number) {
      rethrow();
      serial = serial.then(() => noted(worker(() => run(events, notToIndexer)).done));
      if (stallAt !== undefined) {
        const { done, release } = worker(() => run(events, toIndexer), stallAt);
        paused.push({ done: noted(done), release, timer: setTimeout(release, STALL_MS) });
        return;
      }
      while (indexing.size >= INDEX_WORKERS) await Promise.race(indexing);
      const indexed: Promise<void> = noted(worker(() => run(events, toIndexer)).done).finally(() => indexing.delete(indexed));
      indexing.add(indexed);
    },
    /** Waits until every delivery but the stalled ones is over. */
    async idle() {
      await Promise.all([...indexing, serial]);
      rethrow();
    },
    /** Lets every stalled delivery go on, and waits until they are over. */
    async resume() {
      const resumed = paused.splice(0);
      for (const p of resumed) {
        clearTimeout(p.timer);
        p.release();
      }
      await Promise.all(resumed.map((p) => p.done));
      rethrow();
    },
  };
};

/**
 * Drives the use cases on `store`; published events wait in a pool that the steps deliver, duplicate, drop or
 * stall, and deliveries overlap each other and the steps after them (see `deliveries`). `worker`: how the table
 * under `store` runs a delivery (`jitteryTable`).
 */
export const useCaseDriver = (store: Store, worker: Worker): Driver => {
  const harbor = agreeableRegistryApi();
  const { deps, bus } = testDeps(store, { registryApi: harbor });
  const hosts = { H: 'harbor.test', D: 'registry.test:5000', O: 'owned.test:5000' };
  const registries = {} as Record<RegOf, Registry>;
  const secrets = {} as Record<RegOf, string>;
  const base = Math.floor(Date.now() / 1000) + 60;
  const pool: BusEvent[] = [];
  let cluster: Cluster | undefined;
  const track = async <T>(run: () => Promise<T>) => {
    try {
      return await run();
    } finally {
      pool.push(...bus.take());
    }
  };
  const lanes = deliveries((events, only) => track(() => consumeBatch(events, deps, only)), worker);
  /** Delivers the pool until it stays empty: what a real bus would still deliver, and what those deliveries publish. */
  const drain = async () => {
    for (;;) {
      for (let batch = pool.splice(0, INDEX_BATCH_SIZE); batch.length; batch = pool.splice(0, INDEX_BATCH_SIZE)) await lanes.start(batch);
      await lanes.idle();
      if (!pool.length) return;
    }
  };
  return {
    hosts,
    async setup() {
      for (const w of WORKSPACES) await putWorkspace(w, {}, deps, ctx);
      for (const [key, kind] of [['H', 'harbor'], ['D', 'docker-registry'], ['O', 'docker-registry']] as const) {
        const pull = key === 'H' ? {} : { pullCredentials: { username: 'puller', password: 'pull-only' } };
        const created = await registerRegistry({ name: key, kind, mode: 'hosted', url: `https://${hosts[key]}`, ...pull }, deps, ctx, key === 'O' ? OWNER : undefined);
        const stored = await store.registries.get(created.id);
        if (!stored) throw new Error('registry not stored');
        registries[key] = stored;
        secrets[key] = created.webhook.secret;
      }
      const created = await putCluster('c', { unmanagedImages: 'deny' }, deps, ctx);
      if (!('admissionToken' in created.body)) throw new Error('cluster c existed already');
      // As the webhook handler does, with the token; once, since no step changes the cluster's settings.
      cluster = await authenticateCluster('c', `Bearer ${created.body.admissionToken}`, deps);
      bus.take();
    },
    createSpace: (r, space, visibility) => track(() => outcome(() => createSpace(registries[r].id, { name: space, visibility }, deps, ctx))),
    setVisibility: (r, space, visibility) => track(() => outcome(() => updateSpace(registries[r].id, space, { visibility }, deps, ctx))),
    deleteSpace: (r, space) => track(() => outcome(() => deleteSpace(registries[r].id, space, deps, ctx))),
    bind: (r, space, ws, bound) => track(() => outcome(() => (bound ? bindSpace : unbindSpace)(registries[r].id, space, ws, deps, ctx))),
    namespace: (ns, ws) => track(() => outcome(() => putNamespace('c', ns, { workspaceId: ws }, deps, ctx))),
    notify: (r, change, signAs) =>
      track(async () => {
        // Harbor sends no tag-delete webhook; a reconcile applies one through the same use case.
        if (r === 'H' && change.action === 'delete-tag')
          return void (await applyRegistryChanges(registries[r], [{ ...change, eventTime: (base + change.eventTime) * 1000 }], deps, ctx)), 200;
        const input = { registryId: registries[r].id, authorization: webhookAuthorization(r, secrets[r], change, signAs), body: webhookBody(r, hosts[r], change, base) };
        try {
          await receiveWebhook(r === 'H' ? 'harbor' : 'docker-registry', input, deps, ctx);
          return 200;
        } catch (error) {
          if (error instanceof DomainError && error.code === 'BAD_REQUEST') return 400;
          if (error instanceof DomainError && error.code === 'UNAUTHORIZED') return 401;
          throw error;
        }
      }),
    async deliver({ pick, mode, burst, stallAt }) {
      // The burst goes to the indexer as one batch (as its queue hands several events over), a stalled one too.
      const batch: BusEvent[] = [];
      for (let k = 0; k < burst && pool.length; k++) {
        // Counted from the newest: fast-check favours small picks, and a bus delivers most events soon after their write.
        const i = pool.length - 1 - ((pick + k) % pool.length);
        const event = pool[i];
        if (!event) break;
        if (mode !== 'duplicate') pool.splice(i, 1);
        if (mode !== 'drop') batch.push(event);
      }
      if (batch.length) await lanes.start(batch, mode === 'stall' ? stallAt : undefined);
    },
    async settle() {
      // What a real bus would still deliver, the deliveries still stalled last, then what the sweep recovers of the dropped ones.
      await drain();
      await lanes.resume();
      await drain();
      for (let round = 0; round < 5; round++) {
        const { reemitted } = await sweepPending(deps, -60_000);
        if (!reemitted) break;
        pool.push(...bus.take());
        await drain();
      }
    },
    selector: async (ns, q) => toItems((await listImages('c', ns, { limit: 100, ...(q ? { q } : {}) }, admin, deps)).items),
    dockerPullCredentials: true,
    robotProjects: async (w) => harbor.robots.projectsOf(robotNameOf(DEFAULT_PULL_ACCESS, w)),
    async pullHosts(ns) {
      const answer = await getPullSecret('c', ns, { caller: admin, format: 'json' }, deps);
      return answer.notModified ? [] : authHosts(answer.text);
    },
    async admitted(ns, image) {
      if (!cluster) throw new Error('setup registers the cluster first');
      return (await reviewAdmission(cluster, podReview(ns, image), deps)).response.allowed;
    },
  };
};

/** The registry hosts a pull Secret (JSON) names. */
const authHosts = (secretJson: string) => Object.keys(authsOf(secretJson)).sort();

export const toItems = (items: { image: string; tagCount: number; latestTag: { tag: string }; grantedBy: string[] }[]): SelectorItem[] =>
  items.map((i) => ({ image: i.image, tagCount: i.tagCount, latestTag: i.latestTag.tag, grantedBy: i.grantedBy }));

/** The Authorization header the registry sends: Harbor signs with the project's own secret (or `signAs`'s, to forge). */
export const webhookAuthorization = (r: RegOf, secret: string, c: Change, signAs?: string) =>
  `Bearer ${r === 'H' ? harborProjectSecret(secret, signAs ?? c.path.split('/')[0] ?? '') : secret}`;

/** A date string as far as a `Date` can hold one (a distribution timestamp in year 9999 for a huge time). */
const timestamp = (seconds: number) => new Date(Math.min(seconds, Date.UTC(9999, 11, 31) / 1000) * 1000).toISOString();

/**
 * The change as the registry would post it: Harbor's Default format (`occur_at` in seconds), or a distribution
 * envelope. The model's times are read as seconds after `base` (seconds) on both, so their order is kept.
 */
export const webhookBody = (r: RegOf, host: string, c: Change, base: number): unknown => {
  const seconds = c.action === 'push' && c.absoluteSeconds !== undefined ? c.absoluteSeconds : base + c.eventTime;
  if (r !== 'H') {
    const target =
      c.action === 'push'
        ? { mediaType: 'application/vnd.oci.image.manifest.v1+json', repository: c.path, digest: c.digest, ...(c.tag ? { tag: c.tag } : {}) }
        : c.action === 'delete-tag'
          ? { repository: c.path, tag: c.tag }
          : { repository: c.path, digest: c.digest };
    return { events: [{ id: `${c.action}-${c.path}-${c.eventTime}`, timestamp: timestamp(seconds), action: c.action === 'push' ? 'push' : 'delete', target }] };
  }
  if (c.action === 'delete-tag') throw new Error('Harbor sends no tag delete; use delete-digest');
  const [namespace = ''] = c.path.split('/');
  return {
    type: c.action === 'push' ? 'PUSH_ARTIFACT' : 'DELETE_ARTIFACT',
    occur_at: seconds,
    operator: 'model',
    event_data: {
      resources: [{ digest: c.digest, tag: c.action === 'push' && c.tag ? c.tag : c.digest, resource_url: `${host}/${c.path}` }],
      repository: { name: c.path.slice(namespace.length + 1), namespace, repo_full_name: c.path, repo_type: c.action === 'push' ? c.visibility : 'private' },
    },
  };
};

const Created = z.object({ id: z.string(), host: z.string(), webhook: z.object({ secret: z.string() }) });
const ClusterCreated = z.object({ admissionToken: z.string() });
const ReviewAnswer = z.object({ response: z.object({ allowed: z.boolean() }) });
const Page = z.object({ items: z.array(z.object({ image: z.string(), tagCount: z.number(), latestTag: z.object({ tag: z.string() }), grantedBy: z.array(z.string()) })) });

const outcomeOf = (status: number): Outcome => {
  if (status < 300) return 'ok';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 400) return 'BAD_REQUEST';
  throw new Error(`unexpected status ${status}`);
};

/**
 * Drives the running service over HTTP, as admins and registries would. Each sequence gets its own Harbor
 * (a fake on a new port), Docker Registry host, cluster and workspaces, so sequences cannot see each other.
 */
export const httpDriver = (svc: Service, seq: number, harbor: FakeHarbor): Driver => {
  const ws = (w: string) => `${w}-${seq}`;
  const cluster = `model-${seq}`;
  const hosts = { H: new URL(harbor.url).host, D: `127.0.0.2:${10_000 + seq}`, O: `127.0.0.3:${10_000 + seq}` };
  const regs = {} as Record<RegOf, z.infer<typeof Created>>;
  let admissionToken = '';
  const admin = async (method: string, path: string, body?: unknown) => outcomeOf((await svc.call(method, path, body)).status);
  // A minute ahead (within the allowed clock skew): a reconcile listing (which applies its findings at listing time)
  // never outranks a step. Harbor's reconciles do run: a webhook naming a new project asks for one.
  const base = Math.floor(Date.now() / 1000) + 60;
  return {
    hosts,
    async setup() {
      // The model starts empty; Harbor's default project would be imported by the first reconcile.
      const library = harbor.state.findProject('library', true);
      if (library) harbor.state.deleteProject(library.projectId);
      for (const w of WORKSPACES) await svc.call('PUT', `/api/v1/workspaces/${ws(w)}`, {});
      for (const [key, kind, url] of [['H', 'harbor', harbor.url], ['D', 'docker-registry', `http://${hosts.D}`], ['O', 'docker-registry', `http://${hosts.O}`]] as const) {
        const to = key === 'O' ? `/api/v1/workspaces/${ws(OWNER)}/registries` : '/api/v1/registries';
        const res = await svc.call('POST', to, { name: key, kind, mode: 'hosted', url, ...(key === 'H' ? { credentials: harbor.credentials } : {}) });
        regs[key] = Created.parse(res.body);
      }
      const res = await svc.call('PUT', `/api/v1/clusters/${cluster}`, { unmanagedImages: 'deny' });
      if (res.status !== 201) throw new Error(`cluster registration answered ${res.status}: ${res.text}`);
      admissionToken = ClusterCreated.parse(res.body).admissionToken;
    },
    createSpace: (r, space, visibility) => admin('POST', `/api/v1/registries/${regs[r].id}/spaces`, { name: space, visibility }),
    setVisibility: (r, space, visibility) => admin('PATCH', `/api/v1/registries/${regs[r].id}/spaces/${space}`, { visibility }),
    deleteSpace: (r, space) => admin('DELETE', `/api/v1/registries/${regs[r].id}/spaces/${space}`),
    bind: (r, space, w, bound) => admin(bound ? 'PUT' : 'DELETE', `/api/v1/registries/${regs[r].id}/spaces/${space}/bindings/${ws(w)}`),
    namespace: (ns, w) => admin('PUT', `/api/v1/clusters/${cluster}/namespaces/${ns}`, { workspaceId: w ? ws(w) : null }),
    async notify(r, change, signAs) {
      // A push into Harbor needs its project: Harbor has it (private, as Harbor creates them) before any webhook is
      // sent, so the reconcile that a new project asks for confirms the space private, whatever the payload claims.
      const project = change.path.split('/')[0] ?? '';
      // A refused push (forged, or out of bounds) leaves Harbor as it was: a reconcile would import the project.
      const refused = signAs !== undefined || (change.action === 'push' && change.absoluteSeconds !== undefined);
      if (r === 'H' && change.action === 'push' && !refused && !harbor.state.findProject(project, true)) harbor.state.addProject(project, { public: false });
      const kind = r === 'H' ? 'harbor' : 'distribution';
      const authorization = webhookAuthorization(r, regs[r].webhook.secret, change, signAs);
      const res = await svc.call('POST', `/webhooks/${kind}/${regs[r].id}`, webhookBody(r, hosts[r], change, base), null, { authorization });
      if (res.status >= 500) throw new Error(`webhook answered ${res.status}: ${res.text}`);
      return res.status;
    },
    // The running service's bus delivers by itself.
    deliver: async () => {},
    settle: async () => {},
    // The Docker Registry of this driver is an address nothing listens on: pull credentials could not be checked.
    dockerPullCredentials: false,
    async robotProjects(w) {
      const name = robotNameOf(DEFAULT_PULL_ACCESS, ws(w));
      const robot = harbor.robots().find((r) => r.name === name || r.name === `robot$${name}`);
      return robot?.permissions.map((p) => p.namespace).sort();
    },
    async pullHosts(ns) {
      const res = await svc.call('GET', `/api/v1/clusters/${cluster}/namespaces/${ns}/pull-secret`);
      if (res.status !== 200) throw new Error(`pull secret answered ${res.status}: ${res.text}`);
      return authHosts(res.text).filter((h) => Object.values(hosts).includes(h));
    },
    async selector(ns, q) {
      const res = await svc.call('GET', `/api/v1/clusters/${cluster}/namespaces/${ns}/images?limit=100${q ? `&q=${encodeURIComponent(q)}` : ''}`);
      const items = toItems(Page.parse(res.body).items).filter((i) => Object.values(hosts).some((h) => i.image.startsWith(`${h}/`)));
      return items.map((i) => ({ ...i, grantedBy: i.grantedBy.map((g) => g.replace(new RegExp(`-${seq}$`), '')) }));
    },
    async admitted(ns, image) {
      const res = await svc.call('POST', `/admission/clusters/${cluster}`, podReview(ns, image), admissionToken);
      if (res.status !== 200) throw new Error(`admission answered ${res.status}: ${res.text}`);
      return ReviewAnswer.parse(res.body).response.allowed;
    },
  };
};

