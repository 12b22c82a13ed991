import type * as z from 'zod';
import { ALL_EVENTS, PullAccessSyncRequested, RegistrySyncRequested, SpaceBound, SpaceCreated, SpaceDeleted, SpaceUnbound, SpaceVisibilityChanged } from '../events/index.ts';
import { UiPath, UiQuery } from '../web/assets.ts';
import { BindingPath, ClusterPath, NamespacePath, RegistryPath, SpacePath, WorkspacePath } from './http/params.ts';
import {
  AdmissionConfig,
  AdmissionDecisionList,
  AdmissionReviewAnswer,
  AdmissionReviewBody,
  AdmissionTokenRotated,
  AuditPage,
  BindingList,
  ClusterCreated,
  ClusterList,
  ClusterView,
  DistributionEnvelope,
  HarborPayload,
  HealthView,
  ImagePage,
  NamespaceList,
  OpenApiView,
  PullSecretView,
  RegistryCreated,
  RegistryList,
  RegistryView,
  RotationRequested,
  SpaceList,
  SpaceView,
  SyncAccepted,
  TagList,
  WebhookConfigView,
  WebhookReceipt,
  WebhookSecretRotated,
  WorkspaceDetail,
  WorkspaceList,
} from './http/views.ts';
import { Namespace, Workspace } from './domain/model.ts';
import { INDEXED_DETAIL_TYPES } from './index/indexer.ts';
import { AdmissionConfigQuery } from './usecases/admission-config.ts';
import { ListAuditQuery } from './usecases/audit.ts';
import { BlastRadius, SpaceChangePreviewInput } from './usecases/blast-radius.ts';
import { ListAdmissionDecisionsQuery, PutClusterInput, RotateAdmissionTokenInput } from './usecases/clusters.ts';
import { ExplainQuery, Explanation } from './usecases/explain.ts';
import { MyNamespaces } from './usecases/me.ts';
import { RegisterRegistryInput, UpdateRegistryInput } from './usecases/registries.ts';
import { ListImagesQuery, ListTagsQuery } from './usecases/selector.ts';
import { CreateSpaceInput, UpdateSpaceInput } from './usecases/spaces.ts';
import { ServiceStatus } from './usecases/status.ts';
import { PutNamespaceInput, PutWorkspaceInput } from './usecases/tenancy.ts';
import { RotateWebhookSecretInput } from './usecases/webhook-config.ts';

/**
 * The one place that wires triggers to functions. The CDK stack and the local runtime both read these
 * tables: HTTP routes (API Gateway / local server), bus rules (EventBridge / in-process bus) and schedules
 * (EventBridge Scheduler / timers). A function name is its folder under `functions/`. A route's row says all there
 * is to say of it: who may call it, what it takes (`withHttp` parses that), what it answers (the OpenAPI document is
 * generated from the rows) and what its function may touch in AWS (`cdk/access.ts` turns that into IAM).
 *
 * Modules this one imports (use cases, views, the indexer) must not use its exports at their top level: they would
 * run before this module has defined them (an import cycle).
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
export type SecretAction = 'read' | 'create' | 'delete';

/**
 * What one function may touch in AWS, decided by reading its use case: the CDK binders turn this into IAM
 * statements and env vars, nothing more. `table: 'write'` includes reading. Every row of one function (two routes,
 * a route and a rule) must say the same (`cdk/access.ts` refuses the synth otherwise).
 */
export type FunctionAccess = {
  table?: 'read' | 'write';
  /** PutEvents on the service's bus. */
  publish?: true;
  /** Registry secrets under the stage's prefix: read (open), create (seal), delete (remove). */
  secrets?: readonly SecretAction[];
};

const read: FunctionAccess = { table: 'read' };
const write: FunctionAccess = { table: 'write' };
const writeAndPublish: FunctionAccess = { table: 'write', publish: true };
/** Talks to Harbor with the registry's credentials, so opens its secret. */
const harborCall: FunctionAccess = { table: 'write', publish: true, secrets: ['read'] };

/**
 * What a route takes, as the schemas `withHttp` parses with before the handler runs (a 400 names the field):
 * path and query at once, the body on first use. On `webhook` routes they only document: the handler gets the raw
 * request and parses after it has checked the secret (a malformed id answers 401 like a wrong secret, never 400).
 */
export type RouteInput = {
  path?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** An absent (or `null`) body is taken as `{}`: every field of `body` is optional. */
  optionalBody?: true;
};

export type Route<I extends RouteInput = RouteInput, A extends Access = Access> = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  fn: string;
  access: A;
  /** The largest body taken (default `MAX_BODY_BYTES`, 1 MiB). */
  maxBodyBytes?: number;
  /** What `fn` may touch in AWS. */
  iam: FunctionAccess;
  /** The OpenAPI operation's words; its `operationId` is the row's key in `ROUTES`. */
  doc: { tag: string; summary: string; description?: string };
  input: I;
  /** The success answer, documented (the handler chooses the status it sends, e.g. 201 on creation). */
  ok: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Error statuses beyond those of its access (401, 403), documented. */
  errors?: readonly number[];
};
/** A row of `ROUTES`, with its key. */
export type RouteRow = Route & { operationId: string };

/** Keeps a row's literal types (its access, its schemas), so that `withHttp` infers the handler's input. */
const route = <const I extends RouteInput, const A extends Access>(row: Route<I, A>) => row;
const keyed = <T extends Record<string, Route>>(rows: T) =>
  Object.fromEntries(Object.entries(rows).map(([operationId, row]) => [operationId, { ...row, operationId }])) as { [K in keyof T]: T[K] & { operationId: K & string } };

/**
 * An AdmissionReview of an UPDATE carries the object twice (`object`, `oldObject`), each up to etcd's 1.5 MiB request
 * limit; refusing a real review as too large would stop (or, with `Ignore`, skip) the check.
 */
export const ADMISSION_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Every route, keyed by its OpenAPI operationId; a handler takes its own row (`withHttp(ROUTES['get-registry'], …)`). */
export const ROUTES = keyed({
  'get-health': route({
    method: 'GET', path: '/health', fn: 'get-health', access: 'public',
    iam: {},
    doc: {
      tag: 'meta',
      summary: 'Liveness',
    },
    input: {},
    ok: { status: 200, description: 'up', schema: HealthView },
  }),
  'get-ui': route({
    method: 'GET', path: '/', fn: 'get-ui', access: 'public',
    // Its page and assets are embedded in the bundle (cdk/access.ts).
    iam: {},
    doc: {
      tag: 'deploy UI',
      summary: 'The image selector page',
    },
    // `v` is taken (and checked) on the page too, though only an asset's is used.
    input: { query: UiQuery },
    ok: { status: 200, description: 'the page', contentType: 'text/html' },
  }),
  'get-ui-asset': route({
    method: 'GET', path: '/ui/{asset}', fn: 'get-ui', access: 'public',
    // Its page and assets are embedded in the bundle (cdk/access.ts).
    iam: {},
    doc: {
      tag: 'deploy UI',
      summary: 'A script or style sheet of the page',
    },
    input: { path: UiPath.required(), query: UiQuery },
    ok: { status: 200, description: 'the asset (cached for a year when `v` is the current version)', contentType: 'text/javascript' },
    errors: [404],
  }),
  'get-openapi': route({
    method: 'GET', path: '/openapi.json', fn: 'get-openapi', access: 'public',
    iam: {},
    doc: {
      tag: 'meta',
      summary: 'This document',
    },
    input: {},
    ok: { status: 200, description: 'OpenAPI 3.1', schema: OpenApiView },
  }),
  'get-status': route({
    method: 'GET', path: '/api/v1/status', fn: 'get-status', access: 'admin',
    // Reads the marks' GSI, the index's bookkeeping item and the registries.
    iam: read,
    doc: {
      tag: 'meta',
      summary: 'How fresh the index is: lag, changes waiting, last repair, registries’ sync age',
      description: '`index.lagSeconds` is the age of the oldest change the indexer has not applied yet (0 when none waits); `pending` counts the waiting changes (up to 1,000); both come from the pending marks’ index, eventually consistent. `lastRepair` is the last full reindex (`drift`: rows it found wrong and fixed). Each registry’s `syncAgeSeconds` is the time since its last complete reconcile.',
    },
    input: {},
    ok: { status: 200, description: 'the status', schema: ServiceStatus },
  }),
  'list-audit': route({
    method: 'GET', path: '/api/v1/audit', fn: 'list-audit', access: 'workspace-admin',
    // Reads the audit trail's day partitions.
    iam: read,
    doc: {
      tag: 'meta',
      summary: 'Who changed what: the audit trail, newest first',
      description: 'Every state change: `actor` (a token’s `sub`, `registry:<id>` for a webhook with the registry’s own `operator`, or a job’s name), `action`, `target`, `change` (before → after of a visibility, a binding, a namespace’s workspace, a cluster’s mode) and the `requestId`. A platform admin sees every entry; a workspace admin those that concern their workspaces (`workspaces`), and a `workspaceId` of another workspace answers 403. `since` (inclusive) and `until` (exclusive) are ISO times; entries are kept `AUDIT_TTL_DAYS` (400). A request reads a bounded number of entries: follow `nextCursor`.',
    },
    input: { query: ListAuditQuery },
    ok: { status: 200, description: 'a page', schema: AuditPage },
    errors: [400],
  }),
  'create-registry': route({
    method: 'POST', path: '/api/v1/registries', fn: 'create-registry', access: 'admin',
    iam: { table: 'write', publish: true, secrets: ['create'] },
    doc: {
      tag: 'registries',
      summary: 'Connect a registry',
      description: 'An unreachable registry is still registered (`status: "unreachable"`). The webhook secret is shown once.',
    },
    input: { body: RegisterRegistryInput },
    ok: { status: 201, description: 'connected', schema: RegistryCreated },
    errors: [400, 409],
  }),
  'list-registries': route({
    method: 'GET', path: '/api/v1/registries', fn: 'list-registries', access: 'workspace-admin',
    iam: read,
    doc: {
      tag: 'registries',
      summary: 'List registries',
      description: 'Every registry, with its owner, for a platform admin; for a workspace admin, the registries their workspaces own.',
    },
    input: {},
    ok: { status: 200, description: 'registries', schema: RegistryList },
  }),
  'get-registry': route({
    method: 'GET', path: '/api/v1/registries/{registryId}', fn: 'get-registry', access: 'registry-admin',
    iam: read,
    doc: {
      tag: 'registries',
      summary: 'Get a registry',
    },
    input: { path: RegistryPath },
    ok: { status: 200, description: 'the registry', schema: RegistryView },
    errors: [404],
  }),
  'update-registry': route({
    method: 'PATCH', path: '/api/v1/registries/{registryId}', fn: 'update-registry', access: 'registry-admin',
    // Checks new credentials against the registry and seals them in new items (the old ones removed); a host change
    // publishes the index repair; a Harbor's webhook policies are registered again with its credentials.
    iam: { table: 'write', publish: true, secrets: ['read', 'create', 'delete'] },
    doc: {
      tag: 'registries',
      summary: 'Edit a registry: name, url, admin credentials, a Docker Registry’s read-only pull credentials, insecure',
      description: 'The whole request is checked before any of it is stored. New `credentials` and `pullCredentials` (Docker Registry only, never the admin account; `null` removes them) are checked against the registry at its new address first: refused → 400 with its reason, no answer → 503, nothing changes. A `url` on the same host is stored as given; one on another host needs `confirmHostChange: true` (400 otherwise, 409 when another registry serves that host), must be accepted by the registry there, and re-derives every image reference in the index. A Harbor’s webhook policies are registered again when its url changes. Id, spaces, bindings and the index are kept. 409 also when the registry changed meanwhile (retry).',
    },
    input: { path: RegistryPath, body: UpdateRegistryInput },
    ok: { status: 200, description: 'the registry', schema: RegistryView },
    errors: [400, 404, 409, 503],
  }),
  'delete-registry': route({
    method: 'DELETE', path: '/api/v1/registries/{registryId}', fn: 'delete-registry', access: 'registry-admin',
    // Marks its pull grants for retirement (sync-pull-access deletes the robots, then the registry's secrets).
    iam: { table: 'write', publish: true, secrets: ['delete'] },
    doc: {
      tag: 'registries',
      summary: 'Remove a registry (its images leave every selector)',
    },
    input: { path: RegistryPath },
    ok: { status: 204, description: 'removed' },
    errors: [404],
  }),
  'sync-registry': route({
    method: 'POST', path: '/api/v1/registries/{registryId}/sync', fn: 'sync-registry', access: 'registry-admin',
    // Queues a RegistrySyncRequested; reconcile-registry does the work.
    iam: { table: 'read', publish: true },
    doc: {
      tag: 'registries',
      summary: 'Reconcile now (asynchronously); the outcome shows in the registry status',
    },
    input: { path: RegistryPath },
    ok: { status: 202, description: 'accepted', schema: SyncAccepted },
    errors: [404],
  }),
  'get-webhook-config': route({
    method: 'GET', path: '/api/v1/registries/{registryId}/webhook-config', fn: 'get-webhook-config', access: 'registry-admin',
    // Shows no secret: only the registration and rotation answers do.
    iam: read,
    doc: {
      tag: 'registries',
      summary: 'What to paste into the registry so it notifies this service',
      description: 'Docker Registry: the `notifications` block of config.yml (YAML); Harbor: the webhook policy (JSON), once per project, with `deriveProjectSecret` (each project has its own secret). Never holds a secret: it is shown once, when the registry is connected or the secret rotated.',
    },
    input: { path: RegistryPath },
    ok: { status: 200, description: 'the snippet', schema: WebhookConfigView },
    errors: [404],
  }),
  'rotate-webhook-secret': route({
    method: 'POST', path: '/api/v1/registries/{registryId}/webhook-secret', fn: 'rotate-webhook-secret', access: 'registry-admin',
    // Seals a new secret version, removes the old one, and re-registers Harbor's policies with the credentials.
    iam: { table: 'write', secrets: ['read', 'create', 'delete'] },
    doc: {
      tag: 'registries',
      summary: 'Rotate the webhook secret (shown once in the answer; the old one works for `graceSeconds` more, default 24 h, 0 to cut it off)',
      description: 'Harbor: the service re-registers its policy, with the new project secrets, on every project its credentials allow; `coverage` lists the others.',
    },
    input: { path: RegistryPath, body: RotateWebhookSecretInput, optionalBody: true },
    ok: { status: 200, description: 'rotated', schema: WebhookSecretRotated },
    errors: [400, 404, 409],
  }),
  'list-spaces': route({
    method: 'GET', path: '/api/v1/registries/{registryId}/spaces', fn: 'list-spaces', access: 'registry-admin',
    iam: read,
    doc: {
      tag: 'spaces',
      summary: 'List spaces',
    },
    input: { path: RegistryPath },
    ok: { status: 200, description: 'spaces', schema: SpaceList },
    errors: [404],
  }),
  'create-space': route({
    method: 'POST', path: '/api/v1/registries/{registryId}/spaces', fn: 'create-space', access: 'registry-admin',
    // Creating a space first purges a deleted space's tombstone (re-derives its index rows).
    iam: harborCall,
    doc: {
      tag: 'spaces',
      summary: 'Create a space (Harbor: the project first)',
    },
    input: { path: RegistryPath, body: CreateSpaceInput },
    ok: { status: 201, description: 'created', schema: SpaceView },
    errors: [400, 404, 409, 502, 503],
  }),
  'get-space': route({
    method: 'GET', path: '/api/v1/registries/{registryId}/spaces/{space}', fn: 'get-space', access: 'registry-admin',
    iam: read,
    doc: {
      tag: 'spaces',
      summary: 'Get a space',
    },
    input: { path: SpacePath },
    ok: { status: 200, description: 'the space', schema: SpaceView },
    errors: [404],
  }),
  'update-space': route({
    method: 'PATCH', path: '/api/v1/registries/{registryId}/spaces/{space}', fn: 'update-space', access: 'registry-admin',
    iam: harborCall,
    doc: {
      tag: 'spaces',
      summary: 'Change a space’s visibility',
      description: 'Answers after Harbor’s `metadata.public` was updated. Preview the effect with `POST …/preview` first.',
    },
    input: { path: SpacePath, body: UpdateSpaceInput },
    ok: { status: 200, description: 'updated', schema: SpaceView },
    errors: [400, 404, 502, 503],
  }),
  'delete-space': route({
    method: 'DELETE', path: '/api/v1/registries/{registryId}/spaces/{space}', fn: 'delete-space', access: 'registry-admin',
    iam: harborCall,
    doc: {
      tag: 'spaces',
      summary: 'Delete a space',
    },
    input: { path: SpacePath },
    ok: { status: 204, description: 'deleted' },
    errors: [404, 502, 503],
  }),
  'preview-space-change': route({
    method: 'POST', path: '/api/v1/registries/{registryId}/spaces/{space}/preview', fn: 'preview-space-change', access: 'registry-admin',
    iam: read,
    doc: {
      tag: 'spaces',
      summary: 'Blast radius: what a change to this space would remove, from which namespaces (dry run)',
      description: 'Nothing is changed. `make-private`, `unbind` (one workspace) or `delete`: the images the selector offers now, the registered namespaces that would stop seeing them (count and the first N, sorted), and whether every unregistered namespace loses them too (when the space stops being public).',
    },
    input: { path: SpacePath, body: SpaceChangePreviewInput },
    ok: { status: 200, description: 'the blast radius', schema: BlastRadius },
    errors: [400, 404],
  }),
  'list-bindings': route({
    method: 'GET', path: '/api/v1/registries/{registryId}/spaces/{space}/bindings', fn: 'list-bindings', access: 'registry-admin',
    iam: read,
    doc: {
      tag: 'spaces',
      summary: 'Workspaces a space is bound to',
    },
    input: { path: SpacePath },
    ok: { status: 200, description: 'bindings', schema: BindingList },
    errors: [404],
  }),
  'bind-space': route({
    method: 'PUT', path: '/api/v1/registries/{registryId}/spaces/{space}/bindings/{workspaceId}', fn: 'bind-space', access: 'admin',
    iam: writeAndPublish,
    doc: {
      tag: 'spaces',
      summary: 'Bind a space to a workspace',
      description: 'A workspace-owned registry’s spaces take no binding (409): they are offered to their owner only.',
    },
    input: { path: BindingPath },
    ok: { status: 204, description: 'bound' },
    errors: [404, 409],
  }),
  'unbind-space': route({
    method: 'DELETE', path: '/api/v1/registries/{registryId}/spaces/{space}/bindings/{workspaceId}', fn: 'unbind-space', access: 'admin',
    iam: writeAndPublish,
    doc: {
      tag: 'spaces',
      summary: 'Unbind a space from a workspace',
    },
    input: { path: BindingPath },
    ok: { status: 204, description: 'unbound' },
    errors: [404],
  }),
  'list-workspaces': route({
    method: 'GET', path: '/api/v1/workspaces', fn: 'list-workspaces', access: 'workspace-admin',
    iam: read,
    doc: {
      tag: 'tenancy',
      summary: 'List workspaces',
      description: 'Every workspace for a platform admin; for a workspace admin, theirs.',
    },
    input: {},
    ok: { status: 200, description: 'workspaces', schema: WorkspaceList },
  }),
  'create-workspace-registry': route({
    method: 'POST', path: '/api/v1/workspaces/{workspaceId}/registries', fn: 'create-workspace-registry', access: 'workspace-admin',
    // The same use case, for a registry a workspace owns.
    iam: { table: 'write', publish: true, secrets: ['create'] },
    doc: {
      tag: 'registries',
      summary: 'Connect a registry owned by a workspace',
      description: 'That workspace’s admin or a platform admin. Same body and answer as `POST /api/v1/registries`, with `ownerWorkspaceId`. Every image of the registry, public or private in it, is offered to the workspace’s namespaces only: never to the `public` audience, and its spaces take no bindings (409). Its admins manage it through the registry routes; the workspace cannot be deleted while it owns registries.',
    },
    input: { path: WorkspacePath, body: RegisterRegistryInput },
    ok: { status: 201, description: 'connected', schema: RegistryCreated },
    errors: [400, 404, 409],
  }),
  'put-workspace': route({
    method: 'PUT', path: '/api/v1/workspaces/{workspaceId}', fn: 'put-workspace', access: 'admin',
    iam: write,
    doc: {
      tag: 'tenancy',
      summary: 'Create or update a workspace',
    },
    input: { path: WorkspacePath, body: PutWorkspaceInput, optionalBody: true },
    ok: { status: 200, description: 'updated (201 when created)', schema: Workspace },
    errors: [400],
  }),
  'get-workspace': route({
    method: 'GET', path: '/api/v1/workspaces/{workspaceId}', fn: 'get-workspace', access: 'workspace-admin',
    iam: read,
    doc: {
      tag: 'tenancy',
      summary: 'Get a workspace and its pull access',
    },
    input: { path: WorkspacePath },
    ok: { status: 200, description: 'the workspace', schema: WorkspaceDetail },
    errors: [404],
  }),
  'delete-workspace': route({
    method: 'DELETE', path: '/api/v1/workspaces/{workspaceId}', fn: 'delete-workspace', access: 'admin',
    iam: write,
    doc: {
      tag: 'tenancy',
      summary: 'Delete an unused workspace',
      description: 'Refused (409, naming them) while spaces or namespaces are bound to it or it owns registries: remove those first.',
    },
    input: { path: WorkspacePath },
    ok: { status: 204, description: 'deleted' },
    errors: [404, 409],
  }),
  'rotate-pull-credentials': route({
    method: 'POST', path: '/api/v1/workspaces/{workspaceId}/pull-credentials/rotate', fn: 'rotate-pull-credentials', access: 'admin',
    // Marks the workspace's grants and queues their rotation; sync-pull-access talks to Harbor.
    iam: writeAndPublish,
    doc: {
      tag: 'pull access',
      summary: 'Give every Harbor robot of the workspace a new secret',
      description: 'Asynchronous: each robot gets its new secret within moments (`robot.rotatedAt` on the workspace, and the pull secret’s ETag, change); the old secret stops working then. Namespaces pick the new one up at their next pull-secret refresh.',
    },
    input: { path: WorkspacePath },
    ok: { status: 202, description: 'rotation queued', schema: RotationRequested },
    errors: [404],
  }),
  'list-namespaces': route({
    method: 'GET', path: '/api/v1/namespaces', fn: 'list-namespaces', access: 'workspace-admin',
    iam: read,
    doc: {
      tag: 'tenancy',
      summary: 'List namespaces',
      description: 'Every namespace for a platform admin; for a workspace admin, those of their workspaces.',
    },
    input: {},
    ok: { status: 200, description: 'namespaces', schema: NamespaceList },
  }),
  'put-namespace': route({
    method: 'PUT', path: '/api/v1/clusters/{cluster}/namespaces/{namespace}', fn: 'put-namespace', access: 'admin',
    iam: writeAndPublish,
    doc: {
      tag: 'tenancy',
      summary: 'Bind a namespace to a workspace, or to none',
    },
    input: { path: NamespacePath, body: PutNamespaceInput },
    ok: { status: 200, description: 'updated (201 when created)', schema: Namespace },
    errors: [400, 404],
  }),
  'get-namespace': route({
    method: 'GET', path: '/api/v1/clusters/{cluster}/namespaces/{namespace}', fn: 'get-namespace', access: 'reader',
    iam: read,
    doc: {
      tag: 'tenancy',
      summary: 'Get a namespace',
    },
    input: { path: NamespacePath },
    ok: { status: 200, description: 'the namespace', schema: Namespace },
    errors: [404],
  }),
  'delete-namespace': route({
    method: 'DELETE', path: '/api/v1/clusters/{cluster}/namespaces/{namespace}', fn: 'delete-namespace', access: 'admin',
    iam: writeAndPublish,
    doc: {
      tag: 'tenancy',
      summary: 'Forget a namespace',
    },
    input: { path: NamespacePath },
    ok: { status: 204, description: 'forgotten' },
    errors: [404],
  }),
  'list-images': route({
    method: 'GET', path: '/api/v1/clusters/{cluster}/namespaces/{namespace}/images', fn: 'list-images', access: 'reader',
    iam: read,
    doc: {
      tag: 'selector',
      summary: 'The selector: images a namespace may deploy',
      description: 'Sorted by `image`; `nextCursor` is opaque. `q` is a word-prefix match, case-insensitive: `image` (`host/space/repository`) and `q` split into ' +
      'words on every character other than a-z and 0-9, and an image matches when the words of `q` start consecutive words of it, in order (`pay` and `api gate` find ' +
      '`harbor.example/payments/api-gateway`; `svc-3` finds `svc-30` but not `svc-1` on port 3000; `ments` does not). A `q` without a word filters nothing. Answered from search postings (host words: from the host’s range of rows), so a search reads ' +
      'in proportion to the page it returns, not to the number of visible images.',
    },
    input: { path: NamespacePath, query: ListImagesQuery },
    ok: { status: 200, description: 'one page', schema: ImagePage },
    errors: [400],
  }),
  'list-tags': route({
    method: 'GET', path: '/api/v1/clusters/{cluster}/namespaces/{namespace}/tags', fn: 'list-tags', access: 'reader',
    iam: read,
    doc: {
      tag: 'selector',
      summary: 'Tags of one image, newest first',
      description: '404 when the image is not visible to the namespace (never reveals that it exists).',
    },
    input: { path: NamespacePath, query: ListTagsQuery },
    ok: { status: 200, description: 'tags', schema: TagList },
    errors: [400, 404],
  }),
  'explain-image': route({
    method: 'GET', path: '/api/v1/clusters/{cluster}/namespaces/{namespace}/explain', fn: 'explain-image', access: 'workspace-admin',
    iam: read,
    doc: {
      tag: 'selector',
      summary: 'Explain: why an image is, or is not, offered to a namespace',
      description: 'The chain of facts (registry, `space S private`, `namespace → workspace W`, `S bound to W` or the registry owned by W, tags, index row), up to the first missing link. ' +
      'A platform admin, or the admin of the namespace’s workspace: they are told of what their workspace may select, and of anything else exactly what a space that does not exist would tell (`registry R offers no space S to workspace W`). ' +
      '`asOf`: every change to this image’s truth made before it is in the index — the read time when no change touching it awaits the indexer, else the oldest such pending change.',
    },
    input: { path: NamespacePath, query: ExplainQuery },
    ok: { status: 200, description: 'the explanation', schema: Explanation },
    errors: [400],
  }),
  'get-pull-secret': route({
    method: 'GET', path: '/api/v1/clusters/{cluster}/namespaces/{namespace}/pull-secret', fn: 'get-pull-secret', access: 'reader',
    // Opens the robots' secrets and the Docker Registry pull credentials it hands out (after the ETag check).
    iam: { table: 'read', secrets: ['read'] },
    doc: {
      tag: 'pull access',
      summary: 'The namespace’s image pull Secret (kubernetes.io/dockerconfigjson)',
      description: 'A Secret named `platform-registry-pull`, exactly as `kubectl create secret docker-registry … -o json` prints it, with one `auths` entry per registry host the namespace needs credentials for: its workspace’s robot on every Harbor where the workspace has a bound private space, and each Docker Registry’s read-only pull credentials. Public Harbor projects need none. ' +
      'JSON, or YAML for `Accept: application/yaml`. A strong `ETag`; `If-None-Match` with it answers 304 without opening any secret. Readers get only their workspaces’ namespaces (403).',
    },
    input: { path: NamespacePath },
    ok: { status: 200, description: 'the Secret', schema: PullSecretView },
    errors: [400, 403, 409],
  }),
  'list-my-namespaces': route({
    method: 'GET', path: '/api/v1/me/namespaces', fn: 'list-my-namespaces', access: 'reader',
    iam: read,
    doc: {
      tag: 'selector',
      summary: 'Namespaces the caller may open in the selector',
      description: 'Those bound to the token’s workspaces; every registered namespace for a platform admin.',
    },
    input: {},
    ok: { status: 200, description: 'namespaces', schema: MyNamespaces },
  }),
  'list-clusters': route({
    method: 'GET', path: '/api/v1/clusters', fn: 'list-clusters', access: 'admin',
    // Clusters keep only a hash of their admission token: no secret store.
    iam: read,
    doc: {
      tag: 'admission',
      summary: 'List clusters',
    },
    input: {},
    ok: { status: 200, description: 'clusters', schema: ClusterList },
  }),
  'put-cluster': route({
    method: 'PUT', path: '/api/v1/clusters/{cluster}', fn: 'put-cluster', access: 'admin',
    iam: write,
    doc: {
      tag: 'admission',
      summary: 'Register a cluster for the admission webhook, or change its settings',
      description: 'Registering answers 201 with the admission token, shown once (only its hash is kept); an update answers 200 and keeps the token. Namespaces are registered on their own, and those of an unregistered cluster keep working for the selector.',
    },
    input: { path: ClusterPath, body: PutClusterInput },
    ok: { status: 200, description: 'updated (201 with `admissionToken` when registered)', schema: ClusterCreated },
    errors: [400, 409],
  }),
  'get-cluster': route({
    method: 'GET', path: '/api/v1/clusters/{cluster}', fn: 'get-cluster', access: 'admin',
    iam: read,
    doc: {
      tag: 'admission',
      summary: 'Get a cluster',
    },
    input: { path: ClusterPath },
    ok: { status: 200, description: 'the cluster', schema: ClusterView },
    errors: [404],
  }),
  'delete-cluster': route({
    method: 'DELETE', path: '/api/v1/clusters/{cluster}', fn: 'delete-cluster', access: 'admin',
    iam: write,
    doc: {
      tag: 'admission',
      summary: 'Forget a cluster and its decision log',
      description: 'Its API server’s reviews are refused (401) from then on; with `failurePolicy: Fail` that stops its deploys: delete the ValidatingWebhookConfiguration first. Its namespaces stay.',
    },
    input: { path: ClusterPath },
    ok: { status: 204, description: 'forgotten' },
    errors: [404],
  }),
  'get-admission-config': route({
    method: 'GET', path: '/api/v1/clusters/{cluster}/admission-config', fn: 'get-admission-config', access: 'admin',
    iam: read,
    doc: {
      tag: 'admission',
      summary: 'The ValidatingWebhookConfiguration and kube-apiserver files to paste',
      description: 'The webhook configuration (object and YAML), and the AdmissionConfiguration + kubeconfig that make the API server send the admission token (a placeholder: the token is shown only at registration and rotation).',
    },
    input: { path: ClusterPath, query: AdmissionConfigQuery },
    ok: { status: 200, description: 'the configuration', schema: AdmissionConfig },
    errors: [400, 404],
  }),
  'rotate-admission-token': route({
    method: 'POST', path: '/api/v1/clusters/{cluster}/admission-token', fn: 'rotate-admission-token', access: 'admin',
    iam: write,
    doc: {
      tag: 'admission',
      summary: 'Rotate the cluster’s admission token',
      description: 'The new token is shown once; the old one keeps working for `graceSeconds` (default 24 h; 0 cuts it off at once).',
    },
    input: { path: ClusterPath, body: RotateAdmissionTokenInput, optionalBody: true },
    ok: { status: 200, description: 'rotated', schema: AdmissionTokenRotated },
    errors: [400, 404, 409],
  }),
  'list-admission-decisions': route({
    method: 'GET', path: '/api/v1/clusters/{cluster}/admission-decisions', fn: 'list-admission-decisions', access: 'admin',
    iam: read,
    doc: {
      tag: 'admission',
      summary: 'What the webhook refused (audit mode: would have refused), newest first',
      description: 'A ring of the last 500 refusals per cluster (each kept 30 days); dry runs are not recorded.',
    },
    input: { path: ClusterPath, query: ListAdmissionDecisionsQuery },
    ok: { status: 200, description: 'the log', schema: AdmissionDecisionList },
    errors: [400, 404],
  }),
  'receive-harbor-webhook': route({
    method: 'POST', path: '/webhooks/harbor/{registryId}', fn: 'receive-harbor-webhook', access: 'webhook',
    // Harbor: each project's secret is derived from the registry's, so the webhook opens it (cached a minute).
    // Docker Registry: a hash of the secret kept in the table is compared; Secrets Manager is never opened.
    iam: { table: 'write', publish: true, secrets: ['read'] },
    doc: {
      tag: 'webhooks',
      summary: 'Harbor webhook (policy `auth_header` = `Bearer <project secret>`, see webhook-config)',
      description: 'Taken only for resources of the project whose secret it carries (else 401, as a wrong secret). Validated whole: one bad item (name, digest, an event time more than the allowed skew ahead or before 2000) refuses the request with 400 naming it, and nothing is stored.',
    },
    input: { path: RegistryPath, body: HarborPayload },
    ok: { status: 200, description: 'stored durably', schema: WebhookReceipt },
    errors: [400, 401, 413],
  }),
  'receive-distribution-webhook': route({
    method: 'POST', path: '/webhooks/distribution/{registryId}', fn: 'receive-distribution-webhook', access: 'webhook',
    iam: writeAndPublish,
    doc: {
      tag: 'webhooks',
      summary: 'Docker Registry (distribution) notifications (`Authorization: Bearer <secret>`)',
      description: 'Validated whole: one bad event (name, tag, digest, an event time more than the allowed skew ahead or before 2000) refuses the request with 400 naming it, and nothing is stored.',
    },
    input: { path: RegistryPath, body: DistributionEnvelope },
    ok: { status: 200, description: 'stored durably', schema: WebhookReceipt },
    errors: [400, 401, 413],
  }),
  // The cluster's API server cannot obtain a JWT either: the handler checks `Bearer <admission token>`.
  'review-admission': route({
    method: 'POST', path: '/admission/clusters/{cluster}', fn: 'review-admission', access: 'webhook', maxBodyBytes: ADMISSION_MAX_BODY_BYTES,
    // Reads the index and the truth; writes only the refusal count and the decision log.
    iam: write,
    doc: {
      tag: 'admission',
      summary: 'Kubernetes validating admission webhook (`Authorization: Bearer <admission token>`)',
      description: 'Allows an image on a managed registry host iff the namespace may select its repository (the selector’s and explain’s answer); other hosts follow the cluster’s `unmanagedImages`. Refusals answer `allowed: false` with `status.code` 403 and a message naming each refused image and the missing link; audit mode allows and warns. A wrong token or an unknown cluster → 401; a body that is not an AdmissionReview v1 → 400.',
    },
    input: { path: ClusterPath, body: AdmissionReviewBody },
    ok: { status: 200, description: 'the AdmissionReview answer', schema: AdmissionReviewAnswer },
    errors: [400, 401, 413],
  }),
});

/** The rows of `ROUTES`, in their order (the OpenAPI document's). */
export const ROUTE_LIST: readonly RouteRow[] = Object.values(ROUTES);

/**
 * `serial`: deliveries to `fn` must never overlap: the local bus delivers its events one at a time, and in AWS the
 * function runs with a reserved concurrency of 1. The indexer is not serial: it holds a lease per space
 * (`shared/store/leases.ts`), so it runs in parallel across spaces and one at a time within one.
 * `batchSize`: `fn` takes up to this many events per invocation, as an SQS event (`Records[].body` = the
 * EventBridge envelope) and answers the ones it could not apply (`batchItemFailures`), which alone are retried: in
 * AWS the rule's target is a queue that the function polls; locally the bus hands over what is queued, up to
 * `localBatchSize` (default `batchSize`): it has no batching window to wait for, so a larger batch delays nothing.
 */
export type Rule = { name: string; detailTypes: readonly string[]; fn: string; serial?: boolean; batchSize?: number; localBatchSize?: number; iam: FunctionAccess };

/** The indexer's function: in AWS, its holder of a space stops taking handed-over work after `INDEX_HOLD_SECONDS`. */
export const INDEXER_FN = 'index-changes';
export const INDEX_HOLD_SECONDS = 40;
export const INDEX_BATCH_SIZE = 10;

/** The indexer re-derives the index from the truth for every change that can alter what a namespace sees. */
export const RULES: readonly Rule[] = [
  {
    name: 'index-changes',
    fn: INDEXER_FN,
    // The indexer only re-derives rows from the truth; it publishes nothing.
    iam: write,
    // The detail types the indexer has a handler for (`INDEX_HANDLERS`).
    detailTypes: INDEXED_DETAIL_TYPES,
    // Events of one space in a batch are applied by one re-derivation. 10: SQS's largest batch without a batching
    // window, which would delay every change by the window. Locally: what is queued, up to 100 (a webhook's 100
    // events in one batch: one lease and one read of each space's truth for all of them).
    batchSize: INDEX_BATCH_SIZE,
    localBatchSize: 100,
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
    // Converges the Harbor robots with the registry's credentials; seals each new robot secret, removes the old one
    // (and a removed registry's secrets once its last robot is gone).
    iam: { table: 'write', secrets: ['read', 'create', 'delete'] },
    detailTypes: [SpaceCreated, SpaceBound, SpaceUnbound, SpaceVisibilityChanged, SpaceDeleted, PullAccessSyncRequested].map((c) => c.detailType),
  },
  /** Reconcile lists a registry and repairs the truth, when an admin or the schedule asks. */
  {
    name: 'reconcile-registry',
    fn: 'reconcile-registry',
    detailTypes: [RegistrySyncRequested.detailType],
    // Lists one registry with its credentials and repairs the truth (and Harbor's webhook policies).
    iam: harborCall,
  },
];

export type Schedule = { name: string; fn: string; everySeconds: number; iam: FunctionAccess };

/**
 * Re-emit changes whose event never reached the indexer; reconcile every registry (webhooks are late, doubled,
 * lost or never configured); rebuild the whole index from the truth once a day and report the drift.
 */
export const SCHEDULES: readonly Schedule[] = [
  // Reads old pending marks and re-emits their events, recording them in the audit trail again; the indexer clears the marks.
  { name: 'sweep-pending', fn: 'sweep-pending', everySeconds: 60, iam: { table: 'write', publish: true } },
  // Asks for one reconcile per registry on the bus.
  { name: 'reconcile-registries', fn: 'reconcile-registries', everySeconds: 600, iam: { table: 'read', publish: true } },
  // Re-derives every audience from the truth; publishes nothing.
  { name: 'reindex-all', fn: 'reindex-all', everySeconds: 86_400, iam: write },
  /** Robots whose life is running out get a new secret and a longer life: queues a rotation for each. */
  { name: 'rotate-expiring-robots', fn: 'rotate-expiring-robots', everySeconds: 3600, iam: { table: 'read', publish: true } },
];

/** Every function entry point, derived from the tables above. */
export const FUNCTIONS: readonly string[] = [...new Set([...ROUTE_LIST.map((r) => r.fn), ...RULES.map((r) => r.fn), ...SCHEDULES.map((s) => s.fn)])];

export const PUBLISHED_DETAIL_TYPES = ALL_EVENTS.map((c) => c.detailType);
