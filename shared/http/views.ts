import * as z from 'zod';
import { AdmissionDecision, Cluster } from '../domain/admission.ts';
import { AuditEntry } from '../domain/audit.ts';
import { Binding, IndexRow, Namespace, PullGrant, Registry, Space, TagView, Workspace } from '../domain/model.ts';

/**
 * The shapes of the answers (and of the bodies the handlers take in the registry's or the API server's own format),
 * as schemas: the route rows of `shared/topology.ts` name them, `shared/http/openapi.ts` documents them. Imports no
 * route table, so the topology may import it.
 */
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
export const WorkspaceDetail = Workspace.extend({
  spaces: z.array(Binding.pick({ registryId: true, space: true, createdAt: true })).describe('the spaces bound to it (not those of the registries it owns, which take no bindings)'),
  pullAccess: z.array(PullGrantView).describe('its Harbor robots, one per registry where it has a bound private space'),
});
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
      'the answer reflects every change made before this time: the oldest change the indexer has not applied yet, else the time of the read of the pending marks (each server process reads them at most once a second, so this may be up to a second older than it had to be, never later). From the pending marks’ index, which is eventually consistent: a change of the last moments may not count yet',
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
export const AdmissionReviewBody = z.looseObject({ apiVersion: z.literal('admission.k8s.io/v1'), kind: z.literal('AdmissionReview'), request: z.looseObject({}) }).describe('AdmissionReview (admission.k8s.io/v1) as the API server sends it');
export const AdmissionReviewAnswer = z.object({
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
export const HarborPayload = z.looseObject({}).describe('Harbor webhook payload (Default or CloudEvents 1.0 format)');
export const DistributionEnvelope = z.looseObject({ events: z.array(z.unknown()) }).describe('CNCF distribution notification envelope');

/** Answers documented inline (no component of their own). */
export const HealthView = z.object({ status: z.literal('ok') });
export const OpenApiView = z.looseObject({});
export const ClusterList = list(ClusterView);
export const WebhookConfigView = z.looseObject({ registryId: z.string(), kind: Registry.shape.kind, url: z.string(), format: z.enum(['yaml', 'json']), pasteInto: z.string(), snippet: z.string(), deriveProjectSecret: z.string().optional() });
export const PullSecretView = z.looseObject({ kind: z.literal('Secret'), apiVersion: z.literal('v1'), type: z.literal('kubernetes.io/dockerconfigjson') });
