import * as z from 'zod';
import { Namespace, Workspace } from '../domain/model.ts';
import { AuditEntry } from '../domain/audit.ts';
import { ROUTE_LIST, type Access, type RouteRow } from '../topology.ts';
import { BlastRadius, SpaceChangePreviewInput } from '../usecases/blast-radius.ts';
import { PutClusterInput } from '../usecases/clusters.ts';
import { Explanation } from '../usecases/explain.ts';
import { MyNamespaces } from '../usecases/me.ts';
import { RegisterRegistryInput, UpdateRegistryInput } from '../usecases/registries.ts';
import { CreateSpaceInput, UpdateSpaceInput } from '../usecases/spaces.ts';
import { ServiceStatus } from '../usecases/status.ts';
import { PutNamespaceInput, PutWorkspaceInput } from '../usecases/tenancy.ts';
import * as views from './views.ts';

/** The component names of the schemas the document refers to by `$ref` (the others are inlined). */
const SCHEMA_NAMES = new Map<z.ZodType, string>([
  [views.ErrorBody, 'Error'],
  [views.RegistryView, 'Registry'],
  [views.RegistryCreated, 'RegistryCreated'],
  [views.WebhookSecretRotated, 'WebhookSecretRotated'],
  [views.SpaceView, 'Space'],
  [views.BindingView, 'Binding'],
  [Workspace, 'Workspace'],
  [Namespace, 'Namespace'],
  [views.RegistryList, 'RegistryList'],
  [views.SpaceList, 'SpaceList'],
  [views.BindingList, 'BindingList'],
  [views.WorkspaceList, 'WorkspaceList'],
  [views.NamespaceList, 'NamespaceList'],
  [views.ImageView, 'Image'],
  [views.ImagePage, 'ImagePage'],
  [views.TagList, 'TagList'],
  [views.WebhookReceipt, 'WebhookReceipt'],
  [views.SyncAccepted, 'SyncAccepted'],
  [MyNamespaces, 'MyNamespaces'],
  [Explanation, 'Explanation'],
  [BlastRadius, 'BlastRadius'],
  [views.PullGrantView, 'PullGrant'],
  [views.WorkspaceDetail, 'WorkspaceDetail'],
  [views.RotationRequested, 'RotationRequested'],
  [views.ClusterView, 'Cluster'],
  [views.ClusterCreated, 'ClusterCreated'],
  [views.AdmissionTokenRotated, 'AdmissionTokenRotated'],
  [views.AdmissionConfig, 'AdmissionConfig'],
  [views.AdmissionDecisionList, 'AdmissionDecisionList'],
  [views.AdmissionReviewAnswer, 'AdmissionReviewAnswer'],
  [ServiceStatus, 'ServiceStatus'],
  [AuditEntry, 'AuditEntry'],
  [views.AuditPage, 'AuditPage'],
]);
const INPUT_NAMES = new Map<z.ZodType, string>([
  [RegisterRegistryInput, 'RegisterRegistryInput'],
  [UpdateRegistryInput, 'UpdateRegistryInput'],
  [CreateSpaceInput, 'CreateSpaceInput'],
  [UpdateSpaceInput, 'UpdateSpaceInput'],
  [PutWorkspaceInput, 'PutWorkspaceInput'],
  [PutNamespaceInput, 'PutNamespaceInput'],
  [SpaceChangePreviewInput, 'SpaceChangePreviewInput'],
  [views.HarborPayload, 'HarborPayload'],
  [views.DistributionEnvelope, 'DistributionEnvelope'],
  [PutClusterInput, 'PutClusterInput'],
  [views.AdmissionReviewBody, 'AdmissionReview'],
]);


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

const operation = (row: RouteRow) => {
  const { doc, input, ok } = row;
  const errors = [...new Set([...ACCESS_ERRORS[row.access], ...(row.errors ?? [])])].sort();
  return {
    operationId: row.operationId,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    'x-access': row.access,
    'x-function': row.fn,
    parameters: [...parameters('path', input.path), ...parameters('query', input.query)],
    ...(input.body ? { requestBody: { required: !input.optionalBody, content: { 'application/json': { schema: schemaOf(input.body, 'input') } } } } : {}),
    security: SECURITY[row.access],
    responses: {
      [ok.status]: {
        description: ok.description,
        ...(ok.contentType ? { content: { [ok.contentType]: { schema: { type: 'string' } } } } : {}),
        ...(ok.schema ? { content: { 'application/json': { schema: schemaOf(ok.schema, 'output') } } } : {}),
      },
      ...Object.fromEntries(errors.map((s) => [s, { description: ERROR_TEXT[s] ?? 'error', content: { 'application/json': { schema: ref('Error') } } }])),
    },
  };
};

let built: Record<string, unknown> | undefined;

/**
 * The OpenAPI 3.1 document of the route table, generated from its rows: their words, the zod schemas `withHttp`
 * parses with (paths, queries, bodies) and the answers' schemas (`./views.ts`).
 */
export const openApiDocument = () => {
  if (built) return built;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const row of ROUTE_LIST) (paths[row.path] ??= {})[row.method.toLowerCase()] = operation(row);
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
