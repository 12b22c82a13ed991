import * as z from 'zod';
import {
  NamespaceBound,
  RegistryConnected,
  RegistryRemoved,
  SpaceBound,
  SpaceCreated,
  SpaceDeleted,
  SpaceUnbound,
  SpaceVisibilityChanged,
  TagDeleted,
  TagPushed,
  type BusEvent,
  type EventContract,
} from '../../events/index.ts';

/** What an entry is about; each field only where it applies. */
export const AuditTarget = z.object({
  registryId: z.string().optional(),
  space: z.string().optional(),
  repository: z.string().optional(),
  tag: z.string().optional(),
  digest: z.string().optional(),
  workspaceId: z.string().optional(),
  cluster: z.string().optional(),
  namespace: z.string().optional(),
});
export type AuditTarget = z.infer<typeof AuditTarget>;

/**
 * Before → after of the one setting a change moved: a space's `visibility`, a `binding` (the workspace bound; null:
 * none), a namespace's `workspace`, a cluster's admission `mode`. `before` is absent when it is not known (an event
 * made before it was recorded).
 */
export const AuditChange = z.object({
  field: z.enum(['visibility', 'binding', 'workspace', 'mode']),
  before: z.string().nullable().optional(),
  after: z.string().nullable(),
});
export type AuditChange = z.infer<typeof AuditChange>;

/**
 * One entry of the audit trail: who (`actor`: a token's `sub`, `registry:<id>`, or a job's name; `operator`: the
 * registry's own user, from its webhook) did what (`action`: the event's detail type, or the change's name when it
 * publishes none) to what, in which request. `workspaces`: the workspaces it concerns, whose admins see it.
 * `expiresAt`: epoch seconds, DynamoDB's TTL attribute.
 */
export const AuditEntry = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  operator: z.string().optional(),
  action: z.string(),
  target: AuditTarget,
  change: AuditChange.optional(),
  requestId: z.string(),
  workspaces: z.array(z.string()),
  expiresAt: z.number(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** The state changes that publish no event: their use cases record them with `recordAudit`. */
export type AuditAction =
  | 'WorkspaceCreated'
  | 'WorkspaceUpdated'
  | 'WorkspaceDeleted'
  | 'ClusterCreated'
  | 'ClusterUpdated'
  | 'ClusterDeleted'
  | 'AdmissionTokenRotated'
  | 'WebhookSecretRotated'
  | 'PullCredentialsRotated'
  | 'RegistryUpdated';

/** What an entry says of its change; the writer adds who, when, the request and the expiry. */
export type AuditFact = { target: AuditTarget; change?: AuditChange; workspaces?: string[] };

/** A derivation by detail type; data that does not read under its contract (a stored event of another shape) gives none. */
const derivation = <T extends z.ZodType>(contract: EventContract<T>, derive: (data: z.infer<T>) => AuditFact) =>
  [
    contract.detailType,
    (data: unknown) => {
      const parsed = contract.data.safeParse(data);
      return parsed.success ? derive(parsed.data) : undefined;
    },
  ] as const;

/** The events that are state changes, and what each one's entry says. */
const DERIVATIONS = new Map<string, (data: unknown) => AuditFact | undefined>([
  derivation(RegistryConnected, (d) => ({ target: { registryId: d.registryId } })),
  derivation(RegistryRemoved, (d) => ({ target: { registryId: d.registryId } })),
  derivation(SpaceCreated, (d) => ({ target: { registryId: d.registryId, space: d.space }, change: { field: 'visibility', before: null, after: d.visibility } })),
  derivation(SpaceVisibilityChanged, (d) => ({
    target: { registryId: d.registryId, space: d.space },
    change: { field: 'visibility', ...(d.previousVisibility ? { before: d.previousVisibility } : {}), after: d.visibility },
  })),
  derivation(SpaceDeleted, (d) => ({ target: { registryId: d.registryId, space: d.space } })),
  derivation(SpaceBound, (d) => ({ target: { registryId: d.registryId, space: d.space, workspaceId: d.workspaceId }, change: { field: 'binding', before: null, after: d.workspaceId }, workspaces: [d.workspaceId] })),
  derivation(SpaceUnbound, (d) => ({ target: { registryId: d.registryId, space: d.space, workspaceId: d.workspaceId }, change: { field: 'binding', before: d.workspaceId, after: null }, workspaces: [d.workspaceId] })),
  derivation(NamespaceBound, (d) => ({
    target: { cluster: d.cluster, namespace: d.namespace },
    change: { field: 'workspace', ...(d.previousWorkspaceId !== undefined ? { before: d.previousWorkspaceId } : {}), after: d.workspaceId },
    workspaces: [d.workspaceId, d.previousWorkspaceId].filter((w): w is string => !!w),
  })),
  derivation(TagPushed, (d) => ({ target: { registryId: d.registryId, space: d.space, repository: d.path, tag: d.tag, digest: d.digest } })),
  derivation(TagDeleted, (d) => ({ target: { registryId: d.registryId, space: d.space, repository: d.path, tag: d.tag } })),
]);

/** The detail types `auditOf` records. */
export const AUDITED_DETAIL_TYPES: readonly string[] = [...DERIVATIONS.keys()];

/** Days from an entry's time until DynamoDB may delete it (`AUDIT_TTL_DAYS`). */
export const DEFAULT_AUDIT_TTL_DAYS = 400;

/** An entry's expiry, epoch seconds. */
export const expiryOf = (at: string, ttlDays: number) => Math.floor(Date.parse(at) / 1000) + ttlDays * 86_400;

/**
 * The entry an event makes, or undefined when the event is not a state change (a sync or repair request) or its time
 * or data do not read. Everything comes from the event (its id, time, actor, operator, correlation id), so the sweep's
 * re-emission writes the same entry again. `owner`: the workspace owning the event's registry, which it also concerns.
 */
export const auditOf = (event: BusEvent, ttlDays: number, owner?: string): AuditEntry | undefined => {
  const derive = DERIVATIONS.get(event.detailType);
  const time = Date.parse(event.detail.metadata.occurredAt);
  if (!derive || Number.isNaN(time)) return undefined;
  const fact = derive(event.detail.data);
  if (!fact) return undefined;
  const { id, actor, operator, correlationId } = event.detail.metadata;
  const at = new Date(time).toISOString();
  return {
    id,
    at,
    // An event made before actors were recorded.
    actor: actor ?? 'unknown',
    ...(operator ? { operator } : {}),
    action: event.detailType,
    target: fact.target,
    ...(fact.change ? { change: fact.change } : {}),
    requestId: correlationId,
    workspaces: [...new Set([...(fact.workspaces ?? []), ...(owner ? [owner] : [])])].sort(),
    expiresAt: expiryOf(at, ttlDays),
  };
};
