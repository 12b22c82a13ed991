import * as z from 'zod';
import { Digest, RepositoryName, SpaceName, splitPath } from '../domain/model.ts';
import { badRequest } from '../errors.ts';
import type { ScanResult } from '../usecases/tag-details.ts';
import { operatorOf, realTag, type RegistryChange } from './changes.ts';
import { readScanOverview } from './harbor-scan.ts';

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

const SCAN_COMPLETED = new Set(['SCANNING_COMPLETED', 'harbor.scan.completed']);
const ScanData = z.object({
  resources: z.array(z.object({ digest: z.string().max(200), scan_overview: z.unknown() })).max(1000),
  repository: ArtifactData.shape.repository,
});

/**
 * The Harbor project a payload is about, its changes (empty for event types that change nothing we index), and the
 * scans it reports (`SCANNING_COMPLETED` only).
 */
export type HarborDelivery = { project?: string; changes: RegistryChange[]; scans?: ScanResult[] };

const issuesOf = (error: z.ZodError, prefix: string) => error.issues.map((i) => `${[prefix, ...i.path].join('.')} ${i.message}`).join('; ');

/** The repository a payload names, refused unless it is a valid name inside its project (`evil` would land in `library`). */
const pathOf = (repository: z.infer<typeof ArtifactData>['repository'], prefix: string) => {
  const path = repository.repo_full_name;
  if (!path.startsWith(`${repository.namespace}/`))
    throw badRequest(`${prefix}.repository.repo_full_name ${JSON.stringify(path.slice(0, 300))} is not in project ${JSON.stringify(repository.namespace.slice(0, 300))}`);
  return path;
};

/** A scan event, checked whole: every digest and scan overview readable, else 400 naming the resource. */
const scansOf = (type: string, data: unknown, prefix: string): HarborDelivery => {
  const parsed = ScanData.safeParse(data);
  if (!parsed.success) throw badRequest(`Harbor ${type} payload is malformed: ${issuesOf(parsed.error, prefix)}`);
  const path = pathOf(parsed.data.repository, prefix);
  const { space, repository } = splitPath(path);
  if (!RepositoryName.safeParse(path).success || !RepositoryName.safeParse(repository).success || !SpaceName.safeParse(space).success)
    throw badRequest(`${prefix}.repository.repo_full_name ${JSON.stringify(path.slice(0, 300))} is not a valid repository name`, { at: `${prefix}.repository`, field: 'path' });
  const scans = parsed.data.resources.flatMap((r, index): ScanResult[] => {
    const at = `${prefix}.resources[${index}]`;
    if (!Digest.safeParse(r.digest).success) throw badRequest(`${at}: ${JSON.stringify(r.digest.slice(0, 300))} is not a digest; nothing was stored`, { index, at, field: 'digest' });
    const { scan, problem } = readScanOverview(r.scan_overview);
    if (problem) throw badRequest(`${at}: ${problem}; nothing was stored`, { index, at, field: 'scan_overview' });
    return scan ? [{ path, digest: r.digest, scan }] : [];
  });
  return { project: parsed.data.repository.namespace, changes: [], scans };
};

/**
 * Turns a Harbor webhook body (Default or CloudEvents) into changes. Only artifact pushes and deletes
 * change what can be selected; a completed scan gives its `scans`; every other type (pull, a failed or stopped
 * scan, quota, replication, retention) gives none.
 * The shape is checked here; names, digests and times are checked whole by `applyRegistryChanges`.
 */
export const parseHarborWebhook = (body: unknown): HarborDelivery => {
  const cloud = CloudEvent.safeParse(body);
  const plain = cloud.success ? undefined : DefaultPayload.safeParse(body);
  if (!cloud.success && !plain?.success) throw badRequest('not a Harbor webhook payload (Default or CloudEvents format)');
  const type = cloud.success ? cloud.data.type : plain?.data?.type ?? '';
  if (SCAN_COMPLETED.has(type)) return scansOf(type, cloud.success ? cloud.data.data : plain?.data?.event_data, cloud.success ? 'data' : 'event_data');
  const action = ACTIONS[type];
  if (!action) return { changes: [] };
  // Harbor's Default format has whole seconds; a fraction is not Harbor's and is cut rather than stored.
  const eventTime = cloud.success ? Date.parse(cloud.data.time) : Math.floor((plain?.data?.occur_at ?? NaN) * 1000);
  const prefix = cloud.success ? 'data' : 'event_data';
  const parsed = ArtifactData.safeParse(cloud.success ? cloud.data.data : plain?.data?.event_data);
  if (!parsed.success) throw badRequest(`Harbor ${type} payload is malformed: ${issuesOf(parsed.error, prefix)}`);
  const { resources, repository } = parsed.data;
  const path = pathOf(repository, prefix);
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
