import { ALL_EVENTS, PullAccessSyncRequested, RegistrySyncRequested, SpaceBound, SpaceCreated, SpaceDeleted, SpaceUnbound, SpaceVisibilityChanged } from '../events/index.ts';
import { INDEXED_DETAIL_TYPES } from './index/indexer.ts';

/**
 * The one place that wires triggers to functions. The CDK stack and the local runtime both read these
 * tables: HTTP routes (API Gateway / local server), bus rules (EventBridge / in-process bus) and schedules
 * (EventBridge Scheduler / timers). A function name is its folder under `functions/`.
 */
/**
 * Who may call a route (`shared/http/with-http.ts` checks it, `shared/domain/caller.ts` says what a token grants):
 * - `reader`: any valid token; the use case checks which namespaces it reads.
 * - `workspace-admin`: a platform admin, or the admin of the path's `{workspaceId}`; on a path without one, the
 *   admin of any workspace (the use case answers only what their workspaces hold).
 * - `registry-admin`: a platform admin, or the admin of the workspace that owns the path's `{registryId}` (any other
 *   id, existing or not, is refused alike).
 * - `admin`: a platform admin.
 */
export type Access = 'public' | 'webhook' | 'reader' | 'workspace-admin' | 'registry-admin' | 'admin';

/**
 * Routes whose caller the JWT authorizer (API Gateway) or the local server authenticates before the handler runs;
 * the others authenticate in the handler, if at all.
 */
export const JWT_ACCESS: Record<Access, boolean> = {
  admin: true,
  'workspace-admin': true,
  'registry-admin': true,
  reader: true,
  // Harbor and Docker Registry cannot obtain a JWT: the handler checks `Bearer <webhook secret>` itself.
  webhook: false,
  public: false,
};
export type Route = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  fn: string;
  access: Access;
  /** The largest body taken (default `MAX_BODY_BYTES`, 1 MiB). */
  maxBodyBytes?: number;
};

const route = (method: Route['method'], path: string, fn: string, access: Access, extra: Pick<Route, 'maxBodyBytes'> = {}): Route => ({ method, path, fn, access, ...extra });

/**
 * An AdmissionReview of an UPDATE carries the object twice (`object`, `oldObject`), each up to etcd's 1.5 MiB request
 * limit; refusing a real review as too large would stop (or, with `Ignore`, skip) the check.
 */
export const ADMISSION_MAX_BODY_BYTES = 4 * 1024 * 1024;

export const ROUTES: readonly Route[] = [
  route('GET', '/health', 'get-health', 'public'),
  route('GET', '/', 'get-ui', 'public'),
  route('GET', '/ui/{asset}', 'get-ui', 'public'),
  route('GET', '/openapi.json', 'get-openapi', 'public'),
  route('GET', '/api/v1/status', 'get-status', 'admin'),
  route('GET', '/api/v1/audit', 'list-audit', 'workspace-admin'),
  route('POST', '/api/v1/registries', 'create-registry', 'admin'),
  route('GET', '/api/v1/registries', 'list-registries', 'workspace-admin'),
  route('GET', '/api/v1/registries/{registryId}', 'get-registry', 'registry-admin'),
  route('PATCH', '/api/v1/registries/{registryId}', 'update-registry', 'registry-admin'),
  route('DELETE', '/api/v1/registries/{registryId}', 'delete-registry', 'registry-admin'),
  route('POST', '/api/v1/registries/{registryId}/sync', 'sync-registry', 'registry-admin'),
  route('GET', '/api/v1/registries/{registryId}/webhook-config', 'get-webhook-config', 'registry-admin'),
  route('POST', '/api/v1/registries/{registryId}/webhook-secret', 'rotate-webhook-secret', 'registry-admin'),
  route('GET', '/api/v1/registries/{registryId}/spaces', 'list-spaces', 'registry-admin'),
  route('POST', '/api/v1/registries/{registryId}/spaces', 'create-space', 'registry-admin'),
  route('GET', '/api/v1/registries/{registryId}/spaces/{space}', 'get-space', 'registry-admin'),
  route('PATCH', '/api/v1/registries/{registryId}/spaces/{space}', 'update-space', 'registry-admin'),
  route('DELETE', '/api/v1/registries/{registryId}/spaces/{space}', 'delete-space', 'registry-admin'),
  route('POST', '/api/v1/registries/{registryId}/spaces/{space}/preview', 'preview-space-change', 'registry-admin'),
  route('GET', '/api/v1/registries/{registryId}/spaces/{space}/bindings', 'list-bindings', 'registry-admin'),
  route('PUT', '/api/v1/registries/{registryId}/spaces/{space}/bindings/{workspaceId}', 'bind-space', 'admin'),
  route('DELETE', '/api/v1/registries/{registryId}/spaces/{space}/bindings/{workspaceId}', 'unbind-space', 'admin'),
  route('GET', '/api/v1/workspaces', 'list-workspaces', 'workspace-admin'),
  route('POST', '/api/v1/workspaces/{workspaceId}/registries', 'create-workspace-registry', 'workspace-admin'),
  route('PUT', '/api/v1/workspaces/{workspaceId}', 'put-workspace', 'admin'),
  route('GET', '/api/v1/workspaces/{workspaceId}', 'get-workspace', 'workspace-admin'),
  route('DELETE', '/api/v1/workspaces/{workspaceId}', 'delete-workspace', 'admin'),
  route('POST', '/api/v1/workspaces/{workspaceId}/pull-credentials/rotate', 'rotate-pull-credentials', 'admin'),
  route('GET', '/api/v1/namespaces', 'list-namespaces', 'workspace-admin'),
  route('PUT', '/api/v1/clusters/{cluster}/namespaces/{namespace}', 'put-namespace', 'admin'),
  route('GET', '/api/v1/clusters/{cluster}/namespaces/{namespace}', 'get-namespace', 'reader'),
  route('DELETE', '/api/v1/clusters/{cluster}/namespaces/{namespace}', 'delete-namespace', 'admin'),
  route('GET', '/api/v1/clusters/{cluster}/namespaces/{namespace}/images', 'list-images', 'reader'),
  route('GET', '/api/v1/clusters/{cluster}/namespaces/{namespace}/tags', 'list-tags', 'reader'),
  route('GET', '/api/v1/clusters/{cluster}/namespaces/{namespace}/explain', 'explain-image', 'workspace-admin'),
  route('GET', '/api/v1/clusters/{cluster}/namespaces/{namespace}/pull-secret', 'get-pull-secret', 'reader'),
  route('GET', '/api/v1/me/namespaces', 'list-my-namespaces', 'reader'),
  route('GET', '/api/v1/clusters', 'list-clusters', 'admin'),
  route('PUT', '/api/v1/clusters/{cluster}', 'put-cluster', 'admin'),
  route('GET', '/api/v1/clusters/{cluster}', 'get-cluster', 'admin'),
  route('DELETE', '/api/v1/clusters/{cluster}', 'delete-cluster', 'admin'),
  route('GET', '/api/v1/clusters/{cluster}/admission-config', 'get-admission-config', 'admin'),
  route('POST', '/api/v1/clusters/{cluster}/admission-token', 'rotate-admission-token', 'admin'),
  route('GET', '/api/v1/clusters/{cluster}/admission-decisions', 'list-admission-decisions', 'admin'),
  route('POST', '/webhooks/harbor/{registryId}', 'receive-harbor-webhook', 'webhook'),
  route('POST', '/webhooks/distribution/{registryId}', 'receive-distribution-webhook', 'webhook'),
  // The cluster's API server cannot obtain a JWT either: the handler checks `Bearer <admission token>`.
  route('POST', '/admission/clusters/{cluster}', 'review-admission', 'webhook', { maxBodyBytes: ADMISSION_MAX_BODY_BYTES }),
];

/**
 * `serial`: deliveries to `fn` must never overlap: the local bus delivers its events one at a time, and in AWS the
 * function runs with a reserved concurrency of 1. The indexer is not serial: it holds a lease per space
 * (`shared/store/leases.ts`), so it runs in parallel across spaces and one at a time within one.
 * `batchSize`: `fn` takes up to this many events per invocation, as an SQS event (`Records[].body` = the
 * EventBridge envelope) and answers the ones it could not apply (`batchItemFailures`), which alone are retried: in
 * AWS the rule's target is a queue that the function polls; locally the bus hands over what is queued, up to this.
 */
export type Rule = { name: string; detailTypes: readonly string[]; fn: string; serial?: boolean; batchSize?: number };

/** The indexer's function: in AWS, its holder of a space stops taking handed-over work after `INDEX_HOLD_SECONDS`. */
export const INDEXER_FN = 'index-changes';
export const INDEX_HOLD_SECONDS = 40;
export const INDEX_BATCH_SIZE = 10;

/** The indexer re-derives the index from the truth for every change that can alter what a namespace sees. */
export const RULES: readonly Rule[] = [
  {
    name: 'index-changes',
    fn: INDEXER_FN,
    // The detail types the indexer has a handler for (`INDEX_HANDLERS`).
    detailTypes: INDEXED_DETAIL_TYPES,
    // Events of one space in a batch are applied by one re-derivation. 10: SQS's largest batch without a batching
    // window, which would delay every change by the window.
    batchSize: INDEX_BATCH_SIZE,
  },
  /**
   * Pull access: converges each workspace's Harbor robot to its bound private projects (and the private projects of
   * the registries it owns: a new one shows up as `SpaceCreated`), rotates and retires robots
   * (`PullAccessSyncRequested`, also carried by each pull grant's pending mark). Serial: two syncs of one robot must
   * never interleave (both would create it).
   */
  {
    name: 'sync-pull-access',
    fn: 'sync-pull-access',
    serial: true,
    detailTypes: [SpaceCreated, SpaceBound, SpaceUnbound, SpaceVisibilityChanged, SpaceDeleted, PullAccessSyncRequested].map((c) => c.detailType),
  },
  /** Reconcile lists a registry and repairs the truth, when an admin or the schedule asks. */
  { name: 'reconcile-registry', fn: 'reconcile-registry', detailTypes: [RegistrySyncRequested.detailType] },
];

export type Schedule = { name: string; fn: string; everySeconds: number };

/**
 * Re-emit changes whose event never reached the indexer; reconcile every registry (webhooks are late, doubled,
 * lost or never configured); rebuild the whole index from the truth once a day and report the drift.
 */
export const SCHEDULES: readonly Schedule[] = [
  { name: 'sweep-pending', fn: 'sweep-pending', everySeconds: 60 },
  { name: 'reconcile-registries', fn: 'reconcile-registries', everySeconds: 600 },
  { name: 'reindex-all', fn: 'reindex-all', everySeconds: 86_400 },
  /** Robots whose life is running out get a new secret and a longer life. */
  { name: 'rotate-expiring-robots', fn: 'rotate-expiring-robots', everySeconds: 3600 },
];

/** Every function entry point, derived from the tables above. */
export const FUNCTIONS: readonly string[] = [...new Set([...ROUTES.map((r) => r.fn), ...RULES.map((r) => r.fn), ...SCHEDULES.map((s) => s.fn)])];

export const PUBLISHED_DETAIL_TYPES = ALL_EVENTS.map((c) => c.detailType);
