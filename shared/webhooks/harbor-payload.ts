import * as z from 'zod';
import { Visibility } from '../domain/model.ts';
import { badRequest } from '../errors.ts';
import { realTag, type RegistryChange } from './changes.ts';

const Resource = z.object({ digest: z.string().optional(), tag: z.string().optional(), resource_url: z.string().optional() });
const ArtifactData = z.object({
  resources: z.array(Resource),
  repository: z.object({ name: z.string(), namespace: z.string(), repo_full_name: z.string(), repo_type: Visibility.optional() }),
});

/** Harbor's Default format: `occur_at` in Unix seconds. */
const DefaultPayload = z.object({ type: z.string(), occur_at: z.number(), event_data: z.unknown() });
/** Harbor's CloudEvents 1.0 format: `time` in RFC 3339. */
const CloudEvent = z.object({ specversion: z.string(), type: z.string(), time: z.string(), data: z.unknown() });

const ACTIONS: Record<string, 'push' | 'delete'> = {
  PUSH_ARTIFACT: 'push',
  DELETE_ARTIFACT: 'delete',
  'harbor.artifact.pushed': 'push',
  'harbor.artifact.deleted': 'delete',
};

/**
 * Turns a Harbor webhook body (Default or CloudEvents) into changes. Only artifact pushes and deletes
 * change what can be selected; every other type (pull, scan, quota, replication, retention) gives none.
 */
export const parseHarborWebhook = (body: unknown): RegistryChange[] => {
  const cloud = CloudEvent.safeParse(body);
  const plain = cloud.success ? undefined : DefaultPayload.safeParse(body);
  if (!cloud.success && !plain?.success) throw badRequest('not a Harbor webhook payload (Default or CloudEvents format)');
  const type = cloud.success ? cloud.data.type : plain?.data?.type ?? '';
  const action = ACTIONS[type];
  if (!action) return [];
  const eventTime = cloud.success ? Date.parse(cloud.data.time) : (plain?.data?.occur_at ?? NaN) * 1000;
  if (!Number.isFinite(eventTime)) throw badRequest('Harbor event time is not a valid time');
  const parsed = ArtifactData.safeParse(cloud.success ? cloud.data.data : plain?.data?.event_data);
  if (!parsed.success) throw badRequest(`Harbor ${type} payload is malformed`, { issues: parsed.error.issues });
  const { resources, repository } = parsed.data;
  const path = repository.repo_full_name;
  return resources.flatMap((r): RegistryChange[] => {
    const tag = realTag(r.tag);
    if (!r.digest) return [];
    if (action === 'push')
      return [{ action, path, space: repository.namespace, digest: r.digest, eventTime, ...(tag ? { tag } : {}), ...(repository.repo_type ? { visibility: repository.repo_type } : {}) }];
    // Harbor deletes the artifact: every tag on that digest goes with it.
    return [{ action: 'delete-digest', path, digest: r.digest, eventTime, ...(tag ? { tag } : {}) }];
  });
};
