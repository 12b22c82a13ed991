import * as z from 'zod';
import { badRequest } from '../errors.ts';
import { operatorOf, realTag, type RegistryChange } from './changes.ts';

const Resource = z.object({ digest: z.string().optional(), tag: z.string().optional(), resource_url: z.string().optional() });
// `repo_type` (the project's visibility) is not read: a payload never decides who may see a space.
const ArtifactData = z.object({
  resources: z.array(Resource).max(1000),
  repository: z.object({ name: z.string(), namespace: z.string(), repo_full_name: z.string() }),
});

/** Harbor's Default format: `occur_at` in Unix seconds. `operator` (both formats): who acted, read by `operatorOf`. */
const DefaultPayload = z.object({ type: z.string(), occur_at: z.number(), operator: z.unknown().optional(), event_data: z.unknown() });
/** Harbor's CloudEvents 1.0 format: `time` in RFC 3339; `operator` is an extension attribute. */
const CloudEvent = z.object({ specversion: z.string(), type: z.string(), time: z.string(), operator: z.unknown().optional(), data: z.unknown() });

const ACTIONS: Record<string, 'push' | 'delete'> = {
  PUSH_ARTIFACT: 'push',
  DELETE_ARTIFACT: 'delete',
  'harbor.artifact.pushed': 'push',
  'harbor.artifact.deleted': 'delete',
};

/** The Harbor project a payload is about, and its changes (empty for event types that change nothing we index). */
export type HarborDelivery = { project?: string; changes: RegistryChange[] };

/**
 * Turns a Harbor webhook body (Default or CloudEvents) into changes. Only artifact pushes and deletes
 * change what can be selected; every other type (pull, scan, quota, replication, retention) gives none.
 * The shape is checked here; names, digests and times are checked whole by `applyRegistryChanges`.
 */
export const parseHarborWebhook = (body: unknown): HarborDelivery => {
  const cloud = CloudEvent.safeParse(body);
  const plain = cloud.success ? undefined : DefaultPayload.safeParse(body);
  if (!cloud.success && !plain?.success) throw badRequest('not a Harbor webhook payload (Default or CloudEvents format)');
  const type = cloud.success ? cloud.data.type : plain?.data?.type ?? '';
  const action = ACTIONS[type];
  if (!action) return { changes: [] };
  // Harbor's Default format has whole seconds; a fraction is not Harbor's and is cut rather than stored.
  const eventTime = cloud.success ? Date.parse(cloud.data.time) : Math.floor((plain?.data?.occur_at ?? NaN) * 1000);
  const prefix = cloud.success ? 'data' : 'event_data';
  const parsed = ArtifactData.safeParse(cloud.success ? cloud.data.data : plain?.data?.event_data);
  if (!parsed.success)
    throw badRequest(`Harbor ${type} payload is malformed: ${parsed.error.issues.map((i) => `${[prefix, ...i.path].join('.')} ${i.message}`).join('; ')}`);
  const { resources, repository } = parsed.data;
  const path = repository.repo_full_name;
  // A name without `<project>/` would land in another space (`evil` → `library`): refused, never re-read.
  if (!path.startsWith(`${repository.namespace}/`))
    throw badRequest(`${prefix}.repository.repo_full_name ${JSON.stringify(path)} is not in project ${JSON.stringify(repository.namespace)}`);
  const operator = operatorOf(cloud.success ? cloud.data.operator : plain?.data?.operator);
  const by = operator ? { operator } : {};
  const changes = resources.flatMap((r, index): RegistryChange[] => {
    const tag = realTag(r.tag);
    if (!r.digest) return [];
    const at = `${prefix}.resources[${index}]`;
    if (action === 'push') return [{ action, path, digest: r.digest, eventTime, at, ...(tag ? { tag } : {}), ...by }];
    // Harbor deletes the artifact: every tag on that digest goes with it.
    return [{ action: 'delete-digest', path, digest: r.digest, eventTime, at, ...(tag ? { tag } : {}), ...by }];
  });
  return { project: repository.namespace, changes };
};
