import * as z from 'zod';
import { DomainError } from '../errors.ts';

/** Most containers one object may carry before we refuse to look (a Pod's real limit is far lower; this bounds the work). */
export const MAX_CONTAINERS = 1000;
/** Longest `image` string we read, the same bound as `normalizeImageReference`'s. */
export const MAX_IMAGE_LENGTH = 4096;
const MAX_CONTAINER_NAME_LENGTH = 253;

const GroupVersionKind = z.object({ group: z.string().max(253), version: z.string().max(63), kind: z.string().max(253) });
const GroupVersionResource = z.object({ group: z.string().max(253), version: z.string().max(63), resource: z.string().max(253) });
/** A JSON object: arrays, strings (connaisseur's `"None"`) and numbers are refused. */
const JsonObject = z.record(z.string(), z.unknown());

/**
 * `request` of an `admission.k8s.io/v1` AdmissionReview, as kube-apiserver sends it. Unknown fields are kept
 * (the API server adds some over versions); the strings the use case echoes are cut there, never refused here.
 */
export const AdmissionRequest = z.looseObject({
  uid: z.string().min(1).max(128),
  kind: GroupVersionKind,
  resource: GroupVersionResource,
  subResource: z.string().max(253).optional(),
  requestKind: GroupVersionKind.optional(),
  requestResource: GroupVersionResource.optional(),
  requestSubResource: z.string().max(253).optional(),
  name: z.string().max(253).optional(),
  namespace: z.string().max(253).optional(),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
  userInfo: z
    .looseObject({
      // Not bounded here: an identity the API server accepts must never make the review unreadable (it is cut when echoed).
      username: z.string().optional(),
      uid: z.string().max(512).optional(),
      groups: z.array(z.string()).optional(),
      extra: z.record(z.string(), z.array(z.string())).optional(),
    })
    .optional(),
  // null on CREATE (oldObject) and DELETE (object); absent for CONNECT.
  object: JsonObject.nullable().optional(),
  oldObject: JsonObject.nullable().optional(),
  dryRun: z.boolean().optional(),
  options: JsonObject.nullable().optional(),
});
export type AdmissionRequest = z.infer<typeof AdmissionRequest>;

/** The body kube-apiserver POSTs to a validating webhook that lists `admissionReviewVersions: ["v1"]`. */
export const AdmissionReviewV1 = z.looseObject({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: AdmissionRequest,
});
export type AdmissionReviewV1 = z.infer<typeof AdmissionReviewV1>;

/** One image a workload would run: where it is (`spec.template.spec.initContainers[0]`), the container's name ('' when none). */
export type PodImage = { field: string; container: string; image: string };

/** The reviewed object has a container list, a container or an image of the wrong shape (or too many of them). */
export class ReviewShapeError extends DomainError {
  constructor(readonly field: string, problem: string) {
    super('BAD_REQUEST', `${field} ${problem}`, { field });
  }
}

type JsonRecord = Record<string, unknown>;
const isRecord = (value: unknown): value is JsonRecord => typeof value === 'object' && value !== null && !Array.isArray(value);
const at = (value: unknown, keys: string[]): unknown => keys.reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), value);

const POD_SPEC_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
/**
 * Where pod specs sit: a Pod's `spec`; the template of Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
 * ReplicationController (and CRDs shaped like them); a CronJob's job template; and the pre-1.22
 * `EphemeralContainers` kind, whose list is at the top. Every place is read whatever the kind says, so a kind we do
 * not know cannot hide an image in a place we do.
 */
const podSpecsOf = (object: JsonRecord): { prefix: string; spec: unknown; lists: readonly string[] }[] => [
  { prefix: 'spec.', spec: object.spec, lists: POD_SPEC_LISTS },
  { prefix: 'spec.template.spec.', spec: at(object, ['spec', 'template', 'spec']), lists: POD_SPEC_LISTS },
  { prefix: 'spec.jobTemplate.spec.template.spec.', spec: at(object, ['spec', 'jobTemplate', 'spec', 'template', 'spec']), lists: POD_SPEC_LISTS },
  { prefix: '', spec: object, lists: ['ephemeralContainers'] },
];

const containerImage = (container: unknown, field: string): PodImage | null => {
  if (!isRecord(container)) throw new ReviewShapeError(field, 'is not an object');
  const { name, image } = container;
  // Go decodes JSON null as the zero value: no name, no image.
  if (name !== undefined && name !== null && typeof name !== 'string') throw new ReviewShapeError(`${field}.name`, 'is not a string');
  if (typeof name === 'string' && name.length > MAX_CONTAINER_NAME_LENGTH) {
    throw new ReviewShapeError(`${field}.name`, `is longer than ${MAX_CONTAINER_NAME_LENGTH} characters`);
  }
  if (image === undefined || image === null || image === '') return null; // allowed in workload templates; nothing is pulled
  if (typeof image !== 'string') throw new ReviewShapeError(`${field}.image`, 'is not a string');
  if (image.length > MAX_IMAGE_LENGTH) throw new ReviewShapeError(`${field}.image`, `is longer than ${MAX_IMAGE_LENGTH} characters`);
  return { field, container: typeof name === 'string' ? name : '', image };
};

/**
 * Every image the object (a request's `object` or `oldObject`) would run, in pod-spec order: init containers,
 * containers, ephemeral containers. null/absent → none. Containers without an image are skipped. Throws
 * {@link ReviewShapeError} naming the field when a list, a container or an image has the wrong type, an image is
 * longer than {@link MAX_IMAGE_LENGTH}, or the object holds more than {@link MAX_CONTAINERS} containers.
 */
export const imagesOf = (object: unknown): PodImage[] => {
  if (object === undefined || object === null) return [];
  if (!isRecord(object)) throw new ReviewShapeError('object', 'is not a JSON object');
  const lists: { field: string; items: unknown[] }[] = [];
  let count = 0;
  for (const { prefix, spec, lists: names } of podSpecsOf(object)) {
    if (!isRecord(spec)) continue; // no pod spec there
    for (const list of names) {
      const items = spec[list];
      if (items === undefined || items === null) continue;
      if (!Array.isArray(items)) throw new ReviewShapeError(`${prefix}${list}`, 'is not an array');
      count += items.length;
      // Counted before any container is read, so a huge list costs nothing.
      if (count > MAX_CONTAINERS) throw new ReviewShapeError(`${prefix}${list}`, `takes the object over ${MAX_CONTAINERS} containers`);
      lists.push({ field: `${prefix}${list}`, items });
    }
  }
  return lists.flatMap(({ field, items }) =>
    items.flatMap((container, index) => containerImage(container, `${field}[${index}]`) ?? []),
  );
};

/** What the webhook decided. `message` is shown to the user only when refused; empty `warnings` are left out. */
export type ReviewAnswer = { allowed: boolean; message?: string; warnings?: string[] };
export type AdmissionReviewResponse = {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: { uid: string; allowed: boolean; status?: { code: 403; message: string }; warnings?: string[] };
};

/**
 * The AdmissionReview v1 answer for request `uid` (the API server matches it). A refusal with a message carries
 * `status {code: 403, message}`, which kubectl prints; without one it is the docs' minimal refusal. Warnings reach
 * the client as HTTP `Warning: 299` headers.
 */
export const reviewResponse = (uid: string, answer: ReviewAnswer): AdmissionReviewResponse => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response: {
    uid,
    allowed: answer.allowed,
    ...(!answer.allowed && answer.message ? { status: { code: 403 as const, message: answer.message } } : {}),
    ...(answer.warnings !== undefined && answer.warnings.length > 0 ? { warnings: [...answer.warnings] } : {}),
  },
});
