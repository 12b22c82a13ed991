import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { ALWAYS_EXEMPT, AdmissionMode, Cluster, DECISION_LOG_SIZE, DECISION_TTL_DAYS, UnmanagedImages } from '../domain/admission.ts';
import { Label } from '../domain/model.ts';
import type { Ctx, Deps } from '../deps.ts';
import { badRequest, conflict, notFound, unauthorized } from '../errors.ts';
import { recordAudit } from './audit.ts';
import { hashSecret, RotateSecretInput, sameSecret, WEBHOOK_SECRET_GRACE_MS } from './webhook-secrets.ts';

export const PutClusterInput = z.strictObject({
  displayName: z.string().trim().min(1).max(200).optional(),
  unmanagedImages: UnmanagedImages.describe('images on a host no connected registry serves: allowed (with a warning) or refused'),
  exemptNamespaces: z
    .array(Label)
    .max(100)
    .refine((ns) => new Set(ns).size === ns.length, 'must not repeat a namespace')
    .optional()
    .describe(`namespaces never refused (${ALWAYS_EXEMPT.join(', ')} always is); the admission config leaves them out`),
  mode: AdmissionMode.optional().describe('`enforce` (default) refuses; `audit` allows everything and records what it would refuse'),
});
export type PutClusterInput = z.infer<typeof PutClusterInput>;

/** As a webhook secret's: the old token keeps working 24 h, or `graceSeconds` (0: cut off at once). */
export const RotateAdmissionTokenInput = RotateSecretInput;

export const ListAdmissionDecisionsQuery = z.strictObject({
  since: z.iso.datetime({ offset: true }).optional().describe('only refusals at or after this time'),
  limit: z.coerce.number().int().min(1).max(DECISION_LOG_SIZE).default(100),
});

/** A fresh admission token: 256 random bits; the prefix lets secret scanners find a leaked one. */
const newToken = () => `pira_${randomBytes(32).toString('base64url')}`;

/** Where the cluster's API server posts its AdmissionReviews. */
export const admissionUrl = (deps: Pick<Deps, 'publicUrl'>, cluster: string) => `${deps.publicUrl.replace(/\/$/, '')}/admission/clusters/${cluster}`;

const inGrace = (c: Cluster, now: Date) => !!c.previousTokenUntil && Date.parse(c.previousTokenUntil) > now.getTime();

/** The cluster as admins see it: never a token or its hash. */
export const clusterView = (deps: Pick<Deps, 'publicUrl' | 'clock'>, c: Cluster) => ({
  cluster: c.cluster,
  ...(c.displayName !== undefined ? { displayName: c.displayName } : {}),
  mode: c.mode,
  unmanagedImages: c.unmanagedImages,
  exemptNamespaces: c.exemptNamespaces,
  webhookUrl: admissionUrl(deps, c.cluster),
  tokenRotatedAt: c.tokenRotatedAt,
  ...(inGrace(c, deps.clock()) ? { previousTokenValidUntil: c.previousTokenUntil } : {}),
  refusals: c.refusals ?? 0,
  ...(c.lastRefusalAt ? { lastRefusalAt: c.lastRefusalAt } : {}),
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

export const getClusterOrThrow = async (deps: Deps, cluster: string) => {
  const found = await deps.store.clusters.get(cluster);
  if (!found) throw notFound(`cluster ${cluster} not found`);
  return found;
};

/**
 * Registers a cluster (201, with its admission token, shown only in this answer) or replaces its settings (200; the
 * token stays). Namespaces are registered on their own and keep working for the selector either way.
 */
export const putCluster = async (cluster: string, input: PutClusterInput, deps: Deps, ctx: Ctx) => {
  const at = deps.clock().toISOString();
  const settings = {
    cluster,
    ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
    mode: input.mode ?? 'enforce',
    unmanagedImages: input.unmanagedImages,
    exemptNamespaces: [...(input.exemptNamespaces ?? [])].sort(),
    updatedAt: at,
  } as const;
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await deps.store.clusters.get(cluster);
    if (existing) {
      if (!(await deps.store.clusters.updateSettings(settings))) continue;
      await recordAudit(deps, ctx, { action: 'ClusterUpdated', target: { cluster }, change: { field: 'mode', before: existing.mode, after: settings.mode } });
      return { created: false, body: clusterView(deps, { ...existing, ...settings }) };
    }
    const token = newToken();
    const created: Cluster = { ...settings, tokenHash: hashSecret(token), tokenRotatedAt: at, createdAt: at };
    if (!(await deps.store.clusters.create(created))) continue;
    await recordAudit(deps, ctx, { action: 'ClusterCreated', target: { cluster }, change: { field: 'mode', before: null, after: settings.mode } });
    return { created: true, body: { ...clusterView(deps, created), admissionToken: token } };
  }
  throw conflict(`cluster ${cluster} changed meanwhile; retry`);
};

export const getCluster = async (cluster: string, deps: Deps) => clusterView(deps, await getClusterOrThrow(deps, cluster));

export const listClusters = async (deps: Deps) => ({ items: (await deps.store.clusters.list()).map((c) => clusterView(deps, c)) });

/** Forgets the cluster and its decision log: its API server's reviews are refused (401) from then on. Its namespaces stay. */
export const deleteCluster = async (cluster: string, deps: Deps, ctx: Ctx) => {
  if (!(await deps.store.clusters.remove(cluster))) throw notFound(`cluster ${cluster} not found`);
  await recordAudit(deps, ctx, { action: 'ClusterDeleted', target: { cluster } });
};

/** A new admission token, shown once; the old one keeps working for `graceSeconds` (24 h by default). */
export const rotateAdmissionToken = async (cluster: string, input: z.infer<typeof RotateAdmissionTokenInput>, deps: Deps, ctx: Ctx) => {
  const existing = await getClusterOrThrow(deps, cluster);
  const now = deps.clock();
  const token = newToken();
  const previousUntil = new Date(now.getTime() + (input.graceSeconds ?? WEBHOOK_SECRET_GRACE_MS / 1000) * 1000).toISOString();
  const rotation = { fromHash: existing.tokenHash, hash: hashSecret(token), at: now.toISOString(), previousUntil };
  if (!(await deps.store.clusters.rotateToken(cluster, rotation))) throw conflict(`the admission token of cluster ${cluster} changed meanwhile; retry`);
  await recordAudit(deps, ctx, { action: 'AdmissionTokenRotated', target: { cluster } });
  return { cluster, admissionToken: token, webhookUrl: admissionUrl(deps, cluster), previousTokenValidUntil: previousUntil };
};

/**
 * The cluster whose admission token `authorization` carries (`Bearer <token>`), compared in constant time with the
 * current token, or the previous one during its grace. An unknown cluster answers exactly like a wrong token.
 */
export const authenticateCluster = async (cluster: string, authorization: string | undefined, deps: Pick<Deps, 'store' | 'clock'>): Promise<Cluster> => {
  const refused = () => unauthorized('admission token is wrong or the cluster is unknown');
  const token = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization ?? '')?.[1];
  if (!token || !Label.safeParse(cluster).success) throw refused();
  const found = await deps.store.clusters.get(cluster);
  // A hash is compared either way, so an unknown cluster costs the same as a wrong token.
  const given = hashSecret(token);
  const ok = sameSecret(given, found?.tokenHash ?? '') || (!!found && inGrace(found, deps.clock()) && !!found.previousTokenHash && sameSecret(given, found.previousTokenHash));
  if (!found || !ok) throw refused();
  return found;
};

/** The refusals recorded for the cluster (audit mode: what would have been refused), newest first. */
export const listAdmissionDecisions = async (cluster: string, query: z.infer<typeof ListAdmissionDecisionsQuery>, deps: Deps) => {
  const c = await getClusterOrThrow(deps, cluster);
  const since = query.since ? Date.parse(query.since) : Number.NEGATIVE_INFINITY;
  if (Number.isNaN(since)) throw badRequest('since is not a time');
  // Entries past their TTL may still be in the table until DynamoDB gets to them.
  const oldest = Math.max(since, deps.clock().getTime() - DECISION_TTL_DAYS * 86_400_000);
  const items = (await deps.store.clusters.decisions(cluster)).filter((d) => Date.parse(d.at) >= oldest);
  return { cluster, refusals: c.refusals ?? 0, capacity: DECISION_LOG_SIZE, items: items.slice(0, query.limit).map(({ cluster: _c, ...d }) => d) };
};
