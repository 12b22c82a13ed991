import * as z from 'zod';
import { TagDetails } from './image-details.ts';

/** Harbor's project name rule, used for spaces: lower-case, 1–255 characters. */
export const SpaceName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'must be lower-case letters and digits, separated by one of . _ -');
export type SpaceName = z.infer<typeof SpaceName>;

/** An RFC 1123 label, as Kubernetes names namespaces; also used for clusters and workspace ids. */
export const Label = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be an RFC 1123 label: lower-case letters, digits and -');

export const WorkspaceId = Label;
export const RegistryId = z.string().regex(/^reg-[a-z0-9]{12}$/, 'is not a registry id');

/** A repository path inside a space (may contain `/`), as the distribution spec names them. */
export const RepositoryName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, 'is not a repository name');

export const TagName = z.string().regex(/^\w[\w.-]{0,127}$/, 'is not a tag');
export const Digest = z.string().regex(/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'is not a digest');

export const Visibility = z.enum(['public', 'private']);
export type Visibility = z.infer<typeof Visibility>;
export const RegistryKind = z.enum(['harbor', 'docker-registry']);
export type RegistryKind = z.infer<typeof RegistryKind>;
export const RegistryMode = z.enum(['hosted', 'integrated']);
export const RegistryStatus = z.enum(['healthy', 'unreachable', 'unauthorized', 'unknown']);
export type RegistryStatus = z.infer<typeof RegistryStatus>;

export const Credentials = z.object({ username: z.string().min(1).max(255), password: z.string().min(1).max(4096) });
export type Credentials = z.infer<typeof Credentials>;

const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
/** Credentials that go into a Kubernetes pull secret: `username:password` must split back at the first `:`. */
export const PullCredentials = z.strictObject({
  username: z.string().min(1).max(255).regex(/^[^:]*$/, 'must not contain ":"').regex(NO_CONTROL, 'must not contain control characters'),
  password: z.string().min(1).max(4096).regex(NO_CONTROL, 'must not contain control characters'),
});
export type PullCredentials = z.infer<typeof PullCredentials>;

/**
 * What the secret store keeps per registry. The webhook secret checks deliveries (Harbor: it keys each project's own secret)
 * and registers Harbor webhook policies; the previous one keeps working until `Registry.previousWebhookSecretUntil`.
 */
export const RegistrySecrets = z.object({
  credentials: Credentials.optional(),
  webhookSecret: z.string(),
  previousWebhookSecret: z.string().optional(),
});
export type RegistrySecrets = z.infer<typeof RegistrySecrets>;

/**
 * A registry as stored. `secretRef` points at its sealed `RegistrySecrets` (credentials and webhook secret,
 * in the secret store); the hash of the webhook secret checks deliveries without opening the store.
 */
export const Registry = z.object({
  id: RegistryId,
  name: z.string(),
  kind: RegistryKind,
  mode: RegistryMode,
  url: z.string().max(2048),
  host: z.string().max(2048),
  insecure: z.boolean(),
  status: RegistryStatus,
  statusCheckedAt: z.string(),
  statusMessage: z.string().optional(),
  /** When a reconcile last listed the whole registry and applied the difference. */
  lastSuccessAt: z.string().optional(),
  /** Harbor: which spaces' projects carry this service's webhook policy, as the last reconcile found them. */
  webhookCoverage: z
    .object({ checkedAt: z.string(), covered: z.number().int(), uncovered: z.array(z.object({ space: z.string(), reason: z.string() })) })
    .optional(),
  /** What the last reconcile could not take (invalid names, unreadable repositories, out-of-range times): the first 50, and how many. */
  skipped: z
    .object({ checkedAt: z.string(), count: z.number().int(), items: z.array(z.object({ name: z.string(), reason: z.string() })) })
    .optional(),
  secretRef: z.string(),
  webhookSecretHash: z.string(),
  /** After a rotation: the old secret's hash, accepted until `previousWebhookSecretUntil`. */
  previousWebhookSecretHash: z.string().optional(),
  previousWebhookSecretUntil: z.string().optional(),
  /** Deliveries refused because their event time was out of bounds (the registry's clock is off, or the payload lies). */
  clockSkew: z.object({ count: z.number().int(), lastAt: z.string(), lastEventTime: z.number() }).optional(),
  /** Re-derivations of this registry's spaces or repositories that failed (each retried), and the last one. */
  indexFailures: z
    .object({ count: z.number().int(), lastAt: z.string(), lastItem: z.object({ space: z.string().optional(), path: z.string().optional() }), lastError: z.string() })
    .optional(),
  /** Harbor: whether the credentials can keep the workspaces' pull robots (`unavailable` with Harbor's reason when not). */
  pullAccess: z.object({ status: z.enum(['available', 'unavailable']), checkedAt: z.string(), message: z.string().optional() }).optional(),
  /**
   * Docker Registry: a read-only account every namespace's pull secret carries (never the admin `credentials`),
   * sealed in an item of its own (`PullCredentials`), so the function that hands pull secrets out never opens the
   * admin credentials; `pullCredentialsSetAt` says when (absent: none).
   */
  pullCredentialsRef: z.string().optional(),
  pullCredentialsSetAt: z.string().optional(),
  /**
   * The workspace that owns the registry (absent: a platform registry). Its spaces are offered to that workspace's
   * namespaces only, whatever their visibility; they take no bindings. Set when the registry is connected, never changed.
   */
  ownerWorkspaceId: WorkspaceId.optional(),
  createdAt: z.string(),
  /** Tombstone: the registry was removed; the indexer purges its spaces. */
  deleted: z.boolean().optional(),
});
export type Registry = z.infer<typeof Registry>;
export type WebhookCoverage = NonNullable<Registry['webhookCoverage']>;

export const Space = z.object({
  registryId: RegistryId,
  name: SpaceName,
  visibility: Visibility,
  /**
   * A Harbor space first seen in a webhook: private (offered only where bound) until a reconcile learned the project's
   * visibility from Harbor's API. A payload never widens a grant, and such a visibility is never written back to Harbor.
   */
  visibilityUnconfirmed: z.boolean().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Tombstone: the space was deleted; the indexer purges it. */
  deleted: z.boolean().optional(),
});
export type Space = z.infer<typeof Space>;

export const Binding = z.object({
  registryId: RegistryId,
  space: SpaceName,
  workspaceId: WorkspaceId,
  createdAt: z.string(),
  deleted: z.boolean().optional(),
});
export type Binding = z.infer<typeof Binding>;

export const Workspace = z.object({ id: WorkspaceId, displayName: z.string().optional(), createdAt: z.string() });
export type Workspace = z.infer<typeof Workspace>;

export const Namespace = z.object({
  cluster: Label,
  namespace: Label,
  workspaceId: WorkspaceId.nullable(),
  updatedAt: z.string(),
});
export type Namespace = z.infer<typeof Namespace>;

/**
 * Pull access of one workspace on one Harbor registry: the system robot that holds `repository:pull` and
 * `artifact:read` on exactly the workspace's bound private projects there. `projects` is what the truth asked for at
 * the last derivation; `robot.projects` what Harbor held after the last successful sync. The robot's secret is sealed
 * in the secret store (`robot.secretRef`); `robot.secretVersion` counts its rotations (pull-secret ETags use it).
 */
export const PullGrant = z.object({
  registryId: RegistryId,
  workspaceId: WorkspaceId,
  projects: z.array(SpaceName),
  /** `pending`: Harbor has not confirmed the last derivation yet; `failing`: Harbor is down (retried); `refused`: Harbor said no. */
  status: z.enum(['pending', 'synced', 'failing', 'refused']),
  statusMessage: z.string().optional(),
  robot: z
    .object({
      id: z.number().int(),
      name: z.string(),
      projects: z.array(SpaceName),
      secretRef: z.string(),
      secretVersion: z.number().int(),
      /** Unix seconds, as Harbor keeps it; -1 never. */
      expiresAt: z.number().int().optional(),
      rotatedAt: z.string(),
    })
    .optional(),
  /**
   * The registry was removed: where its robot lives and the registry's sealed secrets (its credentials), kept until
   * the robot is deleted in Harbor (retried while Harbor does not answer).
   */
  removal: z.object({ kind: RegistryKind, url: z.string(), secretRef: z.string() }).optional(),
  /** When a rotation was asked for (a namespace left the workspace, an admin asked); done once `robot.rotatedAt` is later. */
  rotateRequestedAt: z.string().optional(),
  syncedAt: z.string().optional(),
  updatedAt: z.string(),
});
export type PullGrant = z.infer<typeof PullGrant>;

/** `path` is the registry's own repository name (`space/repo`, or `alpine` in a Docker Registry). */
export const Repository = z.object({
  registryId: RegistryId,
  space: SpaceName,
  repository: RepositoryName,
  path: RepositoryName,
  /**
   * Where the indexer last wrote this repository's rows (read consistently, unlike a GSI), so a re-derivation
   * always finds every row it must remove. Recorded as a superset before rows are written.
   */
  indexedImage: z.string().optional(),
  indexedAudiences: z.array(z.string()).optional(),
});
export type Repository = z.infer<typeof Repository>;

/**
 * The truth about one tag. `eventTime` (ms since epoch, the registry's clock) decides order;
 * a deleted tag stays as a tombstone so that a late push with an older time cannot resurrect it.
 */
export const Tag = z.object({
  registryId: RegistryId,
  space: SpaceName,
  repository: RepositoryName,
  path: RepositoryName,
  tag: TagName,
  /** Absent on a tombstone written before any push was seen (a delete names no digest in Docker Registry). */
  digest: Digest.optional(),
  state: z.enum(['present', 'deleted']),
  eventTime: z.number().int(),
  /** What the digest is (`TagDetails`), as listings and webhooks told it; a push of another digest replaces it. */
  ...TagDetails.shape,
});
export type Tag = z.infer<typeof Tag>;

export const Audience = z.string().regex(/^(public|workspace:[a-z0-9-]+)$/);
export type Audience = z.infer<typeof Audience>;

/** A tag as the selector shows it; `size`, `platforms` and `scan` are there when known (see `TagDetails`). */
export const TagView = z.object({ tag: TagName, digest: Digest, pushedAt: z.string(), ...TagDetails.shape });
export type TagView = z.infer<typeof TagView>;

/** One precomputed selector row: an image offered to one audience. */
export const IndexRow = z.object({
  audience: Audience,
  image: z.string(),
  registryId: RegistryId,
  space: SpaceName,
  repository: RepositoryName,
  path: RepositoryName,
  visibility: Visibility,
  tagCount: z.number().int(),
  latestTag: TagView,
  updatedAt: z.string(),
});
export type IndexRow = z.infer<typeof IndexRow>;

/** The pullable reference of a repository, without tag. */
export const imageRef = (host: string, path: string): string => `${host}/${path}`;

/**
 * Splits a registry path into space and repository. Docker Registry: the first segment, or `library`
 * for a one-segment path (`alpine` → `library`/`alpine`). Harbor paths always start with the project.
 */
export const splitPath = (path: string): { space: string; repository: string } => {
  const slash = path.indexOf('/');
  return slash < 0 ? { space: 'library', repository: path } : { space: path.slice(0, slash), repository: path.slice(slash + 1) };
};
