import * as z from 'zod';
import { Label } from './model.ts';

/** What a cluster's admission webhook does with an image on a host no connected registry serves. */
export const UnmanagedImages = z.enum(['allow', 'deny']);
/** `enforce` refuses; `audit` allows everything and records what it would refuse (the safe way to roll out). */
export const AdmissionMode = z.enum(['enforce', 'audit']);

/** Namespaces the webhook never refuses, whatever a cluster says (the generated configuration leaves them out too). */
export const ALWAYS_EXEMPT = ['kube-system'] as const;

/**
 * A Kubernetes cluster whose API server asks this service, through its validating admission webhook, whether a
 * workload may use its images. Its admission token is kept only as a hash; after a rotation the previous one keeps
 * working until `previousTokenUntil` (API servers read the token from a file on their nodes).
 */
export const Cluster = z.object({
  cluster: Label,
  displayName: z.string().optional(),
  mode: AdmissionMode,
  unmanagedImages: UnmanagedImages,
  exemptNamespaces: z.array(Label),
  tokenHash: z.string(),
  tokenRotatedAt: z.string(),
  previousTokenHash: z.string().optional(),
  previousTokenUntil: z.string().optional(),
  /** Refusals recorded so far (audit mode: would-be refusals), and the last one's time. */
  refusals: z.number().int().optional(),
  lastRefusalAt: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Cluster = z.infer<typeof Cluster>;

/** One image the webhook refused (or, in audit mode, would have refused), and why. */
export const RefusedImage = z.object({
  image: z.string(),
  container: z.string(),
  field: z.string(),
  /** Which link of the rule is missing (explain's links, plus `reference` and `unmanaged`). */
  link: z.string(),
  reason: z.string(),
});
export type RefusedImage = z.infer<typeof RefusedImage>;

/** A refused review, as the per-cluster decision log keeps it (a ring of `DECISION_LOG_SIZE` entries). */
export const AdmissionDecision = z.object({
  cluster: Label,
  seq: z.number().int(),
  at: z.string(),
  uid: z.string(),
  mode: AdmissionMode,
  /** False in audit mode: the review was allowed, this is what enforce would have refused. */
  enforced: z.boolean(),
  namespace: z.string(),
  operation: z.string(),
  kind: z.string(),
  name: z.string().optional(),
  user: z.string().optional(),
  images: z.array(RefusedImage),
  /** Refused images beyond the ones kept in `images`. */
  moreImages: z.number().int().optional(),
});
export type AdmissionDecision = z.infer<typeof AdmissionDecision>;

/** The decision log keeps this many refusals per cluster, newest overwriting oldest; each also expires after `DECISION_TTL_DAYS`. */
export const DECISION_LOG_SIZE = 500;
export const DECISION_TTL_DAYS = 30;

/** The log line of each refused review; the stack counts them as the metric `ADMISSION_REFUSALS_METRIC`. */
export const ADMISSION_REFUSED_LOG = 'admission refused';
export const ADMISSION_REFUSALS_METRIC = { namespace: 'PlatformImageRegistry', name: 'AdmissionRefusals' } as const;
