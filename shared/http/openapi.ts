import * as z from 'zod';
import { Binding, Namespace, PullGrant, Registry, Space, TagView, Workspace, IndexRow } from '../domain/model.ts';
import { ROUTES, type Access, type Route } from '../topology.ts';
import { BlastRadius, SpaceChangePreviewInput } from '../usecases/blast-radius.ts';
import { ExplainQuery, Explanation } from '../usecases/explain.ts';
import { MyNamespaces } from '../usecases/me.ts';
import { RegisterRegistryInput, UpdateRegistryInput } from '../usecases/registries.ts';
import { ListImagesQuery, ListTagsQuery } from '../usecases/selector.ts';
import { CreateSpaceInput, UpdateSpaceInput } from '../usecases/spaces.ts';
import { ServiceStatus } from '../usecases/status.ts';
import { PutNamespaceInput, PutWorkspaceInput } from '../usecases/tenancy.ts';
import { UiPath, UiQuery } from '../../web/assets.ts';
import { BindingPath, ClusterPath, NamespacePath, RegistryPath, SpacePath, WorkspacePath } from './params.ts';
import { RotateWebhookSecretInput } from '../usecases/webhook-config.ts';
import { AdmissionDecision, Cluster } from '../domain/admission.ts';
import { AdmissionConfigQuery } from '../usecases/admission-config.ts';
import { ListAdmissionDecisionsQuery, PutClusterInput, RotateAdmissionTokenInput } from '../usecases/clusters.ts';
import { AuditEntry } from '../domain/audit.ts';
import { ListAuditQuery } from '../usecases/audit.ts';

/** What the handlers answer, as schemas (requests use the use cases' own input schemas). */
export const ErrorBody = z.object({ error: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() });
export const RegistryView = Registry.pick({ id: true, name: true, kind: true, mode: true, url: true, host: true, insecure: true, status: true, statusCheckedAt: true, statusMessage: true, lastSuccessAt: true, webhookCoverage: true, skipped: true, clockSkew: true, indexFailures: true, previousWebhookSecretUntil: true, pullAccess: true, pullCredentialsSetAt: true, ownerWorkspaceId: true, createdAt: true });
export const RegistryCreated = RegistryView.extend({
  webhook: z.object({
    url: z.string(),
    secret: z.string().describe('shown once, here and in the rotation answer: never again'),
    authHeader: z.string().describe('the Authorization header deliveries carry: `Bearer <secret>` (Docker Registry), or a project secret derived from it (Harbor)'),
  }),
});
export const WebhookSecretRotated = z.object({
  registryId: z.string(),
  webhook: RegistryCreated.shape.webhook,
  previousSecretValidUntil: z.string().describe('the old secret keeps working until then (24 h, or `graceSeconds`)'),
  coverage: Registry.shape.webhookCoverage,
});
export const PullGrantView = PullGrant.pick({ registryId: true, workspaceId: true, projects: true, status: true, statusMessage: true, syncedAt: true }).extend({
  robot: z
    .object({
      name: z.string().describe('the docker login user of the robot'),
      projects: z.array(z.string()).describe('what Harbor held after the last sync'),
      rotatedAt: z.string(),
      expiresAt: z.string().nullable().optional().describe('null: never'),
    })
    .optional(),
});
export const WorkspaceDetail = Workspace.extend({ pullAccess: z.array(PullGrantView).describe('its Harbor robots, one per registry where it has a bound private space') });
export const RotationRequested = z.object({
  workspaceId: z.string(),
  requestedAt: z.string(),
  robots: z.array(z.object({ registryId: z.string(), robot: z.string() })).describe('each gets a new secret shortly; the old one stops working then'),
});
export const SpaceView = Space.omit({ deleted: true });
export const BindingView = Binding.pick({ workspaceId: true, createdAt: true });
export const ImageView = IndexRow.omit({ audience: true, path: true }).extend({
  grantedBy: z.array(z.string()).describe('`public` and/or `workspace:<id>`: why the namespace may select it'),
});
export const ImagePage = z.object({
  items: z.array(ImageView),
  nextCursor: z.string().nullable(),
  asOf: z
    .string()
    .describe(
      'the answer reflects every change made before this time: the oldest change the indexer has not applied yet, else the time of the read. From the pending marks’ index, which is eventually consistent: a change of the last moments may not count yet',
    ),
});
export const TagList = z.object({ items: z.array(TagView).describe('newest first') });
export const WebhookReceipt = z.object({ received: z.int(), applied: z.int() });
export const SyncAccepted = z.object({ registryId: z.string(), status: Registry.shape.status, accepted: z.boolean(), lastSuccessAt: z.string().optional() });
export const ClusterView = Cluster.pick({ cluster: true, displayName: true, mode: true, unmanagedImages: true, exemptNamespaces: true, tokenRotatedAt: true, lastRefusalAt: true, createdAt: true, updatedAt: true }).extend({
  webhookUrl: z.string().describe('where the API server posts its AdmissionReviews'),
  previousTokenValidUntil: z.string().optional().describe('after a rotation: the old token keeps working until then'),
  refusals: z.int().describe('refusals recorded (audit mode: would-be refusals)'),
});
export const ClusterCreated = ClusterView.extend({ admissionToken: z.string().describe('shown once, here and in the rotation answer: never again') });
export const AdmissionTokenRotated = z.object({
  cluster: z.string(),
  admissionToken: z.string().describe('shown once'),
  webhookUrl: z.string(),
  previousTokenValidUntil: z.string().describe('the old token keeps working until then (24 h, or `graceSeconds`)'),
});
export const AdmissionConfig = z.looseObject({
  cluster: z.string(),
  webhookUrl: z.string(),
  validatingWebhookConfiguration: z.object({ object: z.looseObject({}), yaml: z.string(), applyWith: z.string() }),
  apiServer: z.looseObject({ flag: z.string() }),
});
export const AdmissionDecisionList = z.object({
  cluster: z.string(),
  refusals: z.int(),
  capacity: z.int().describe('the log keeps this many refusals, the newest'),
  items: z.array(AdmissionDecision.omit({ cluster: true })).describe('newest first'),
});
export const AuditPage = z.object({
  items: z.array(AuditEntry).describe('newest first'),
  nextCursor: z.string().nullable().describe('pass it as `cursor` for older entries (a page may hold fewer than `limit` and still have one); null: nothing older matches'),
});
const AdmissionReviewBody = z.looseObject({ apiVersion: z.literal('admission.k8s.io/v1'), kind: z.literal('AdmissionReview'), request: z.looseObject({}) }).describe('AdmissionReview (admission.k8s.io/v1) as the API server sends it');
const AdmissionReviewAnswer = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  response: z.object({
    uid: z.string(),
    allowed: z.boolean(),
    status: z.object({ code: z.literal(403), message: z.string() }).optional(),
    warnings: z.array(z.string()).optional(),
  }),
});
const list = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });
export const RegistryList = list(RegistryView);
export const SpaceList = list(SpaceView);
export const BindingList = list(BindingView);
export const WorkspaceList = list(Workspace);
export const NamespaceList = list(Namespace);

/** A webhook body is the registry's own format; the handler tells Harbor's Default and CloudEvents apart. */
const HarborPayload = z.looseObject({}).describe('Harbor webhook payload (Default or CloudEvents 1.0 format)');
const DistributionEnvelope = z.looseObject({ events: z.array(z.unknown()) }).describe('CNCF distribution notification envelope');

type Op = {
  summary: string;
  description?: string;
  tag: string;
  operationId?: string;
  path?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  ok: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  errors?: number[];
};

const SCHEMA_NAMES = new Map<z.ZodType, string>([
  [ErrorBody, 'Error'],
  [RegistryView, 'Registry'],
  [RegistryCreated, 'RegistryCreated'],
  [WebhookSecretRotated, 'WebhookSecretRotated'],
  [SpaceView, 'Space'],
  [BindingView, 'Binding'],
  [Workspace, 'Workspace'],
  [Namespace, 'Namespace'],
  [RegistryList, 'RegistryList'],
  [SpaceList, 'SpaceList'],
  [BindingList, 'BindingList'],
  [WorkspaceList, 'WorkspaceList'],
  [NamespaceList, 'NamespaceList'],
  [ImageView, 'Image'],
  [ImagePage, 'ImagePage'],
  [TagList, 'TagList'],
  [WebhookReceipt, 'WebhookReceipt'],
  [SyncAccepted, 'SyncAccepted'],
  [MyNamespaces, 'MyNamespaces'],
  [Explanation, 'Explanation'],
  [BlastRadius, 'BlastRadius'],
  [PullGrantView, 'PullGrant'],
  [WorkspaceDetail, 'WorkspaceDetail'],
  [RotationRequested, 'RotationRequested'],
  [ClusterView, 'Cluster'],
  [ClusterCreated, 'ClusterCreated'],
  [AdmissionTokenRotated, 'AdmissionTokenRotated'],
  [AdmissionConfig, 'AdmissionConfig'],
  [AdmissionDecisionList, 'AdmissionDecisionList'],
  [AdmissionReviewAnswer, 'AdmissionReviewAnswer'],
  [ServiceStatus, 'ServiceStatus'],
  [AuditEntry, 'AuditEntry'],
  [AuditPage, 'AuditPage'],
]);
const INPUT_NAMES = new Map<z.ZodType, string>([
  [RegisterRegistryInput, 'RegisterRegistryInput'],
  [UpdateRegistryInput, 'UpdateRegistryInput'],
  [CreateSpaceInput, 'CreateSpaceInput'],
  [UpdateSpaceInput, 'UpdateSpaceInput'],
  [PutWorkspaceInput, 'PutWorkspaceInput'],
  [PutNamespaceInput, 'PutNamespaceInput'],
  [SpaceChangePreviewInput, 'SpaceChangePreviewInput'],
  [HarborPayload, 'HarborPayload'],
  [DistributionEnvelope, 'DistributionEnvelope'],
  [PutClusterInput, 'PutClusterInput'],
  [AdmissionReviewBody, 'AdmissionReview'],
]);


/** Every route's operation, keyed `METHOD path` like the route table. */
export const OPERATIONS: Record<string, Op> = {
  'GET /': { tag: 'deploy UI', summary: 'The image selector page', operationId: 'get-ui', ok: { status: 200, description: 'the page', contentType: 'text/html' } },
  'GET /ui/{asset}': {
    tag: 'deploy UI',
    summary: 'A script or style sheet of the page',
    operationId: 'get-ui-asset',
    path: UiPath.required(),
    query: UiQuery,
    ok: { status: 200, description: 'the asset (cached for a year when `v` is the current version)', contentType: 'text/javascript' },
    errors: [404],
  },
  'GET /openapi.json': { tag: 'meta', summary: 'This document', ok: { status: 200, description: 'OpenAPI 3.1', schema: z.looseObject({}) } },
  'GET /health': { tag: 'meta', summary: 'Liveness', ok: { status: 200, description: 'up', schema: z.object({ status: z.literal('ok') }) } },
  'GET /api/v1/status': {
    tag: 'meta',
    summary: 'How fresh the index is: lag, changes waiting, last repair, registries’ sync age',
    description:
      '`index.lagSeconds` is the age of the oldest change the indexer has not applied yet (0 when none waits); `pending` counts the waiting changes (up to 1,000); both come from the pending marks’ index, eventually consistent. `lastRepair` is the last full reindex (`drift`: rows it found wrong and fixed). Each registry’s `syncAgeSeconds` is the time since its last complete reconcile.',
    ok: { status: 200, description: 'the status', schema: ServiceStatus },
  },
  'GET /api/v1/audit': {
    tag: 'meta',
    summary: 'Who changed what: the audit trail, newest first',
    description:
      'Every state change: `actor` (a token’s `sub`, `registry:<id>` for a webhook with the registry’s own `operator`, or a job’s name), `action`, `target`, `change` (before → after of a visibility, a binding, a namespace’s workspace, a cluster’s mode) and the `requestId`. A platform admin sees every entry; a workspace admin those that concern their workspaces (`workspaces`), and a `workspaceId` of another workspace answers 403. `since` (inclusive) and `until` (exclusive) are ISO times; entries are kept `AUDIT_TTL_DAYS` (400). A request reads a bounded number of entries: follow `nextCursor`.',
    query: ListAuditQuery,
    ok: { status: 200, description: 'a page', schema: AuditPage },
    errors: [400],
  },
  'POST /api/v1/registries': {
    tag: 'registries',
    summary: 'Connect a registry',
    description: 'An unreachable registry is still registered (`status: "unreachable"`). The webhook secret is shown once.',
    body: RegisterRegistryInput,
    ok: { status: 201, description: 'connected', schema: RegistryCreated },
    errors: [400, 409],
  },
  'POST /api/v1/workspaces/{workspaceId}/registries': {
    tag: 'registries',
    summary: 'Connect a registry owned by a workspace',
    description:
      'That workspace’s admin or a platform admin. Same body and answer as `POST /api/v1/registries`, with `ownerWorkspaceId`. Every image of the registry, public or private in it, is offered to the workspace’s namespaces only: never to the `public` audience, and its spaces take no bindings (409). Its admins manage it through the registry routes; the workspace cannot be deleted while it owns registries.',
    path: WorkspacePath,
    body: RegisterRegistryInput,
    ok: { status: 201, description: 'connected', schema: RegistryCreated },
    errors: [400, 404, 409],
  },
  'GET /api/v1/registries': {
    tag: 'registries',
    summary: 'List registries',
    description: 'Every registry, with its owner, for a platform admin; for a workspace admin, the registries their workspaces own.',
    ok: { status: 200, description: 'registries', schema: RegistryList },
  },
  'GET /api/v1/registries/{registryId}': { tag: 'registries', summary: 'Get a registry', path: RegistryPath, ok: { status: 200, description: 'the registry', schema: RegistryView }, errors: [404] },
  'PATCH /api/v1/registries/{registryId}': {
    tag: 'registries',
    summary: 'Edit a registry: name, url, admin credentials, a Docker Registry’s read-only pull credentials, insecure',
    description:
      'The whole request is checked before any of it is stored. New `credentials` and `pullCredentials` (Docker Registry only, never the admin account; `null` removes them) are checked against the registry at its new address first: refused → 400 with its reason, no answer → 503, nothing changes. A `url` on the same host is stored as given; one on another host needs `confirmHostChange: true` (400 otherwise, 409 when another registry serves that host), must be accepted by the registry there, and re-derives every image reference in the index. A Harbor’s webhook policies are registered again when its url changes. Id, spaces, bindings and the index are kept. 409 also when the registry changed meanwhile (retry).',
    path: RegistryPath,
    body: UpdateRegistryInput,
    ok: { status: 200, description: 'the registry', schema: RegistryView },
    errors: [400, 404, 409, 503],
  },
  'DELETE /api/v1/registries/{registryId}': { tag: 'registries', summary: 'Remove a registry (its images leave every selector)', path: RegistryPath, ok: { status: 204, description: 'removed' }, errors: [404] },
  'POST /api/v1/registries/{registryId}/sync': {
    tag: 'registries',
    summary: 'Reconcile now (asynchronously); the outcome shows in the registry status',
    path: RegistryPath,
    ok: { status: 202, description: 'accepted', schema: SyncAccepted },
    errors: [404],
  },
  'GET /api/v1/registries/{registryId}/webhook-config': {
    tag: 'registries',
    summary: 'What to paste into the registry so it notifies this service',
    description:
      'Docker Registry: the `notifications` block of config.yml (YAML); Harbor: the webhook policy (JSON), once per project, with `deriveProjectSecret` (each project has its own secret). Never holds a secret: it is shown once, when the registry is connected or the secret rotated.',
    path: RegistryPath,
    ok: {
      status: 200,
      description: 'the snippet',
      schema: z.looseObject({ registryId: z.string(), kind: Registry.shape.kind, url: z.string(), format: z.enum(['yaml', 'json']), pasteInto: z.string(), snippet: z.string(), deriveProjectSecret: z.string().optional() }),
    },
    errors: [404],
  },
  'POST /api/v1/registries/{registryId}/webhook-secret': {
    tag: 'registries',
    summary: 'Rotate the webhook secret (shown once in the answer; the old one works for `graceSeconds` more, default 24 h, 0 to cut it off)',
    description: 'Harbor: the service re-registers its policy, with the new project secrets, on every project its credentials allow; `coverage` lists the others.',
    path: RegistryPath,
    body: RotateWebhookSecretInput,
    ok: { status: 200, description: 'rotated', schema: WebhookSecretRotated },
    errors: [400, 404, 409],
  },
  'GET /api/v1/registries/{registryId}/spaces': { tag: 'spaces', summary: 'List spaces', path: RegistryPath, ok: { status: 200, description: 'spaces', schema: SpaceList }, errors: [404] },
  'POST /api/v1/registries/{registryId}/spaces': {
    tag: 'spaces',
    summary: 'Create a space (Harbor: the project first)',
    path: RegistryPath,
    body: CreateSpaceInput,
    ok: { status: 201, description: 'created', schema: SpaceView },
    errors: [400, 404, 409, 502, 503],
  },
  'GET /api/v1/registries/{registryId}/spaces/{space}': { tag: 'spaces', summary: 'Get a space', path: SpacePath, ok: { status: 200, description: 'the space', schema: SpaceView }, errors: [404] },
  'PATCH /api/v1/registries/{registryId}/spaces/{space}': {
    tag: 'spaces',
    summary: 'Change a space’s visibility',
    description: 'Answers after Harbor’s `metadata.public` was updated. Preview the effect with `POST …/preview` first.',
    path: SpacePath,
    body: UpdateSpaceInput,
    ok: { status: 200, description: 'updated', schema: SpaceView },
    errors: [400, 404, 502, 503],
  },
  'DELETE /api/v1/registries/{registryId}/spaces/{space}': { tag: 'spaces', summary: 'Delete a space', path: SpacePath, ok: { status: 204, description: 'deleted' }, errors: [404, 502, 503] },
  'POST /api/v1/registries/{registryId}/spaces/{space}/preview': {
    tag: 'spaces',
    summary: 'Blast radius: what a change to this space would remove, from which namespaces (dry run)',
    description:
      'Nothing is changed. `make-private`, `unbind` (one workspace) or `delete`: the images the selector offers now, the registered namespaces that would stop seeing them (count and the first N, sorted), and whether every unregistered namespace loses them too (when the space stops being public).',
    path: SpacePath,
    body: SpaceChangePreviewInput,
    ok: { status: 200, description: 'the blast radius', schema: BlastRadius },
    errors: [400, 404],
  },
  'GET /api/v1/registries/{registryId}/spaces/{space}/bindings': {
    tag: 'spaces',
    summary: 'Workspaces a space is bound to',
    path: SpacePath,
    ok: { status: 200, description: 'bindings', schema: BindingList },
    errors: [404],
  },
  'PUT /api/v1/registries/{registryId}/spaces/{space}/bindings/{workspaceId}': {
    tag: 'spaces',
    summary: 'Bind a space to a workspace',
    description: 'A workspace-owned registry’s spaces take no binding (409): they are offered to their owner only.',
    path: BindingPath,
    ok: { status: 204, description: 'bound' },
    errors: [404, 409],
  },
  'DELETE /api/v1/registries/{registryId}/spaces/{space}/bindings/{workspaceId}': { tag: 'spaces', summary: 'Unbind a space from a workspace', path: BindingPath, ok: { status: 204, description: 'unbound' }, errors: [404] },
  'GET /api/v1/workspaces': {
    tag: 'tenancy',
    summary: 'List workspaces',
    description: 'Every workspace for a platform admin; for a workspace admin, theirs.',
    ok: { status: 200, description: 'workspaces', schema: WorkspaceList },
  },
  'PUT /api/v1/workspaces/{workspaceId}': {
    tag: 'tenancy',
    summary: 'Create or update a workspace',
    path: WorkspacePath,
    body: PutWorkspaceInput,
    ok: { status: 200, description: 'updated (201 when created)', schema: Workspace },
    errors: [400],
  },
  'GET /api/v1/workspaces/{workspaceId}': { tag: 'tenancy', summary: 'Get a workspace and its pull access', path: WorkspacePath, ok: { status: 200, description: 'the workspace', schema: WorkspaceDetail }, errors: [404] },
  'POST /api/v1/workspaces/{workspaceId}/pull-credentials/rotate': {
    tag: 'pull access',
    summary: 'Give every Harbor robot of the workspace a new secret',
    description:
      'Asynchronous: each robot gets its new secret within moments (`robot.rotatedAt` on the workspace, and the pull secret’s ETag, change); the old secret stops working then. Namespaces pick the new one up at their next pull-secret refresh.',
    path: WorkspacePath,
    ok: { status: 202, description: 'rotation queued', schema: RotationRequested },
    errors: [404],
  },
  'DELETE /api/v1/workspaces/{workspaceId}': {
    tag: 'tenancy',
    summary: 'Delete an unused workspace',
    description: 'Refused (409, naming them) while spaces or namespaces are bound to it or it owns registries: remove those first.',
    path: WorkspacePath,
    ok: { status: 204, description: 'deleted' },
    errors: [404, 409],
  },
  'GET /api/v1/namespaces': {
    tag: 'tenancy',
    summary: 'List namespaces',
    description: 'Every namespace for a platform admin; for a workspace admin, those of their workspaces.',
    ok: { status: 200, description: 'namespaces', schema: NamespaceList },
  },
  'GET /api/v1/me/namespaces': {
    tag: 'selector',
    summary: 'Namespaces the caller may open in the selector',
    description: 'Those bound to the token’s workspaces; every registered namespace for a platform admin.',
    ok: { status: 200, description: 'namespaces', schema: MyNamespaces },
  },
  'PUT /api/v1/clusters/{cluster}/namespaces/{namespace}': {
    tag: 'tenancy',
    summary: 'Bind a namespace to a workspace, or to none',
    path: NamespacePath,
    body: PutNamespaceInput,
    ok: { status: 200, description: 'updated (201 when created)', schema: Namespace },
    errors: [400, 404],
  },
  'GET /api/v1/clusters/{cluster}/namespaces/{namespace}': { tag: 'tenancy', summary: 'Get a namespace', path: NamespacePath, ok: { status: 200, description: 'the namespace', schema: Namespace }, errors: [404] },
  'DELETE /api/v1/clusters/{cluster}/namespaces/{namespace}': { tag: 'tenancy', summary: 'Forget a namespace', path: NamespacePath, ok: { status: 204, description: 'forgotten' }, errors: [404] },
  'GET /api/v1/clusters/{cluster}/namespaces/{namespace}/images': {
    tag: 'selector',
    summary: 'The selector: images a namespace may deploy',
    description:
      'Sorted by `image`; `nextCursor` is opaque. `q` is a word-prefix match, case-insensitive: `image` (`host/space/repository`) and `q` split into ' +
      'words on every character other than a-z and 0-9, and an image matches when the words of `q` start consecutive words of it, in order (`pay` and `api gate` find ' +
      '`harbor.example/payments/api-gateway`; `svc-3` finds `svc-30` but not `svc-1` on port 3000; `ments` does not). A `q` without a word filters nothing. Answered from search postings, so a search reads ' +
      'in proportion to the page it returns, not to the number of visible images.',
    path: NamespacePath,
    query: ListImagesQuery,
    ok: { status: 200, description: 'one page', schema: ImagePage },
    errors: [400],
  },
  'GET /api/v1/clusters/{cluster}/namespaces/{namespace}/tags': {
    tag: 'selector',
    summary: 'Tags of one image, newest first',
    description: '404 when the image is not visible to the namespace (never reveals that it exists).',
    path: NamespacePath,
    query: ListTagsQuery,
    ok: { status: 200, description: 'tags', schema: TagList },
    errors: [400, 404],
  },
  'GET /api/v1/clusters/{cluster}/namespaces/{namespace}/explain': {
    tag: 'selector',
    summary: 'Explain: why an image is, or is not, offered to a namespace',
    description:
      'The chain of facts (registry, `space S private`, `namespace → workspace W`, `S bound to W` or the registry owned by W, tags, index row), up to the first missing link. ' +
      'A platform admin, or the admin of the namespace’s workspace: they are told of what their workspace may select, and of anything else exactly what a space that does not exist would tell (`registry R offers no space S to workspace W`). ' +
      '`asOf`: every change to this image’s truth made before it is in the index — the read time when no change touching it awaits the indexer, else the oldest such pending change.',
    path: NamespacePath,
    query: ExplainQuery,
    ok: { status: 200, description: 'the explanation', schema: Explanation },
    errors: [400],
  },
  'GET /api/v1/clusters/{cluster}/namespaces/{namespace}/pull-secret': {
    tag: 'pull access',
    summary: 'The namespace’s image pull Secret (kubernetes.io/dockerconfigjson)',
    description:
      'A Secret named `platform-registry-pull`, exactly as `kubectl create secret docker-registry … -o json` prints it, with one `auths` entry per registry host the namespace needs credentials for: its workspace’s robot on every Harbor where the workspace has a bound private space, and each Docker Registry’s read-only pull credentials. Public Harbor projects need none. ' +
      'JSON, or YAML for `Accept: application/yaml`. A strong `ETag`; `If-None-Match` with it answers 304 without opening any secret. Readers get only their workspaces’ namespaces (403).',
    path: NamespacePath,
    ok: { status: 200, description: 'the Secret', schema: z.looseObject({ kind: z.literal('Secret'), apiVersion: z.literal('v1'), type: z.literal('kubernetes.io/dockerconfigjson') }) },
    errors: [400, 403, 409],
  },
  'GET /api/v1/clusters': { tag: 'admission', summary: 'List clusters', ok: { status: 200, description: 'clusters', schema: list(ClusterView) } },
  'PUT /api/v1/clusters/{cluster}': {
    tag: 'admission',
    summary: 'Register a cluster for the admission webhook, or change its settings',
    description:
      'Registering answers 201 with the admission token, shown once (only its hash is kept); an update answers 200 and keeps the token. Namespaces are registered on their own, and those of an unregistered cluster keep working for the selector.',
    path: ClusterPath,
    body: PutClusterInput,
    ok: { status: 200, description: 'updated (201 with `admissionToken` when registered)', schema: ClusterCreated },
    errors: [400, 409],
  },
  'GET /api/v1/clusters/{cluster}': { tag: 'admission', summary: 'Get a cluster', path: ClusterPath, ok: { status: 200, description: 'the cluster', schema: ClusterView }, errors: [404] },
  'DELETE /api/v1/clusters/{cluster}': {
    tag: 'admission',
    summary: 'Forget a cluster and its decision log',
    description: 'Its API server’s reviews are refused (401) from then on; with `failurePolicy: Fail` that stops its deploys: delete the ValidatingWebhookConfiguration first. Its namespaces stay.',
    path: ClusterPath,
    ok: { status: 204, description: 'forgotten' },
    errors: [404],
  },
  'GET /api/v1/clusters/{cluster}/admission-config': {
    tag: 'admission',
    summary: 'The ValidatingWebhookConfiguration and kube-apiserver files to paste',
    description: 'The webhook configuration (object and YAML), and the AdmissionConfiguration + kubeconfig that make the API server send the admission token (a placeholder: the token is shown only at registration and rotation).',
    path: ClusterPath,
    query: AdmissionConfigQuery,
    ok: { status: 200, description: 'the configuration', schema: AdmissionConfig },
    errors: [400, 404],
  },
  'POST /api/v1/clusters/{cluster}/admission-token': {
    tag: 'admission',
    summary: 'Rotate the cluster’s admission token',
    description: 'The new token is shown once; the old one keeps working for `graceSeconds` (default 24 h; 0 cuts it off at once).',
    path: ClusterPath,
    body: RotateAdmissionTokenInput,
    ok: { status: 200, description: 'rotated', schema: AdmissionTokenRotated },
    errors: [400, 404, 409],
  },
  'GET /api/v1/clusters/{cluster}/admission-decisions': {
    tag: 'admission',
    summary: 'What the webhook refused (audit mode: would have refused), newest first',
    description: 'A ring of the last 500 refusals per cluster (each kept 30 days); dry runs are not recorded.',
    path: ClusterPath,
    query: ListAdmissionDecisionsQuery,
    ok: { status: 200, description: 'the log', schema: AdmissionDecisionList },
    errors: [400, 404],
  },
  'POST /admission/clusters/{cluster}': {
    tag: 'admission',
    summary: 'Kubernetes validating admission webhook (`Authorization: Bearer <admission token>`)',
    description:
      'Allows an image on a managed registry host iff the namespace may select its repository (the selector’s and explain’s answer); other hosts follow the cluster’s `unmanagedImages`. Refusals answer `allowed: false` with `status.code` 403 and a message naming each refused image and the missing link; audit mode allows and warns. A wrong token or an unknown cluster → 401; a body that is not an AdmissionReview v1 → 400.',
    path: ClusterPath,
    body: AdmissionReviewBody,
    ok: { status: 200, description: 'the AdmissionReview answer', schema: AdmissionReviewAnswer },
    errors: [400, 401, 413],
  },
  'POST /webhooks/harbor/{registryId}': {
    tag: 'webhooks',
    summary: 'Harbor webhook (policy `auth_header` = `Bearer <project secret>`, see webhook-config)',
    description: 'Taken only for resources of the project whose secret it carries (else 401, as a wrong secret). Validated whole: one bad item (name, digest, an event time more than the allowed skew ahead or before 2000) refuses the request with 400 naming it, and nothing is stored.',
    path: RegistryPath,
    body: HarborPayload,
    ok: { status: 200, description: 'stored durably', schema: WebhookReceipt },
    errors: [400, 401, 413],
  },
  'POST /webhooks/distribution/{registryId}': {
    tag: 'webhooks',
    summary: 'Docker Registry (distribution) notifications (`Authorization: Bearer <secret>`)',
    description: 'Validated whole: one bad event (name, tag, digest, an event time more than the allowed skew ahead or before 2000) refuses the request with 400 naming it, and nothing is stored.',
    path: RegistryPath,
    body: DistributionEnvelope,
    ok: { status: 200, description: 'stored durably', schema: WebhookReceipt },
    errors: [400, 401, 413],
  },
};

const ERROR_TEXT: Record<number, string> = {
  400: 'bad input',
  401: 'no or bad token (webhooks: wrong secret or unknown registry; admission: wrong token or unknown cluster)',
  403: 'not allowed',
  404: 'not found',
  409: 'conflict',
  413: 'body too large',
  502: 'the registry refused (its reason is in `message`)',
  503: 'the registry is down: retry',
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const clean = ({ $schema: _s, $id: _i, ...rest }: Record<string, unknown>) => rest;
const inline = (schema: z.ZodType, io: 'input' | 'output') => clean(z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }));
const schemaOf = (schema: z.ZodType, io: 'input' | 'output') => {
  const name = (io === 'input' ? INPUT_NAMES : SCHEMA_NAMES).get(schema);
  return name ? ref(name) : inline(schema, io);
};

const JsonSchemaObject = z.object({ properties: z.record(z.string(), z.unknown()).default({}), required: z.array(z.string()).default([]) });
const parameters = (where: 'path' | 'query', schema: z.ZodObject | undefined) => {
  if (!schema) return [];
  const { properties, required } = JsonSchemaObject.parse(inline(schema, 'input'));
  return Object.entries(properties).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.includes(name), schema: s }));
};

const components = (names: Map<z.ZodType, string>, io: 'input' | 'output') => {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of names) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io, unrepresentable: 'any', target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, clean(s)]));
};

const SECURITY: Record<Access, unknown[]> = { public: [], webhook: [{ webhookSecret: [] }], reader: [{ bearer: [] }], 'workspace-admin': [{ bearer: [] }], 'registry-admin': [{ bearer: [] }], admin: [{ bearer: [] }] };
const ACCESS_ERRORS: Record<Access, number[]> = { public: [], webhook: [401], reader: [401, 403], 'workspace-admin': [401, 403], 'registry-admin': [401, 403], admin: [401, 403] };

const operation = (route: Route, op: Op | undefined) => {
  if (!op)
    return {
      operationId: route.fn,
      summary: `${route.method} ${route.path}`,
      'x-undocumented': true,
      'x-access': route.access,
      parameters: [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      security: SECURITY[route.access],
      responses: { default: { description: 'see DESIGN §4' } },
    };
  const errors = [...new Set([...ACCESS_ERRORS[route.access], ...(op.errors ?? [])])].sort();
  return {
    operationId: op.operationId ?? route.fn,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    'x-access': route.access,
    'x-function': route.fn,
    parameters: [...parameters('path', op.path), ...parameters('query', op.query)],
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(op.body, 'input') } } } } : {}),
    security: SECURITY[route.access],
    responses: {
      [op.ok.status]: {
        description: op.ok.description,
        ...(op.ok.contentType ? { content: { [op.ok.contentType]: { schema: { type: 'string' } } } } : {}),
        ...(op.ok.schema ? { content: { 'application/json': { schema: schemaOf(op.ok.schema, 'output') } } } : {}),
      },
      ...Object.fromEntries(errors.map((s) => [s, { description: ERROR_TEXT[s] ?? 'error', content: { 'application/json': { schema: ref('Error') } } }])),
    },
  };
};

let built: Record<string, unknown> | undefined;

/**
 * The OpenAPI 3.1 document of the route table, generated from the zod schemas the handlers parse with
 * (paths, queries, bodies) and the response schemas above. A route missing from `OPERATIONS` still appears,
 * marked `x-undocumented` (the unit test refuses that).
 */
export const openApiDocument = () => {
  if (built) return built;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, OPERATIONS[`${route.method} ${route.path}`]);
  built = {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Platform image registry service',
      version: '1',
      description:
        'Spaces, workspaces and the image selector. Errors are `{error, message, details?}`. The rule: a namespace may select a space’s images ⇔ the space’s registry is owned by the namespace’s workspace, or the registry is a platform one and the space is public ∨ bound to the namespace’s workspace.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { ...components(INPUT_NAMES, 'input'), ...components(SCHEMA_NAMES, 'output') },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'claims `sub`, `roles` (`platform-admin`, `workspace-admin:<workspaceId>`), `workspaces`' },
        webhookSecret: { type: 'http', scheme: 'bearer', description: 'the webhook secret handed out when the registry was connected (admission: the cluster’s admission token)' },
      },
    },
  };
  return built;
};
