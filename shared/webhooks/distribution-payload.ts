import * as z from 'zod';
import { badRequest } from '../errors.ts';
import { operatorOf, type RegistryChange } from './changes.ts';

const Event = z.object({
  id: z.string(),
  timestamp: z.string(),
  action: z.string(),
  target: z.object({
    mediaType: z.string().optional(),
    digest: z.string().optional(),
    repository: z.string(),
    tag: z.string().optional(),
    /** What the manifest references (an image's config and layers): read by `imageSizeOf`, never a refusal. */
    references: z.unknown().optional(),
  }),
  /** Who acted (`actor.name`, the authenticated user): read by `operatorOf`, so a strange one never refuses the event. */
  actor: z.unknown().optional(),
});
const Actor = z.object({ name: z.unknown() });
const Envelope = z.object({ events: z.array(z.unknown()).max(1000) });

const IMAGE_MANIFESTS = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
const References = z.array(z.object({ mediaType: z.string().max(255), size: z.number().int().min(0).max(2 ** 40) })).max(10_000);

/**
 * An image manifest's size as its push event tells it: its config and layers (`target.references`). `target.size`
 * is the manifest's own size, not the image's; an index references other manifests, so it gives none.
 */
const imageSizeOf = (mediaType: string | undefined, references: unknown): number | undefined => {
  const refs = References.safeParse(references);
  if (!mediaType || !IMAGE_MANIFESTS.has(mediaType) || !refs.success || !refs.data.some((r) => /config/.test(r.mediaType))) return undefined;
  return refs.data.reduce((sum, r) => sum + r.size, 0);
};

const BLOB_MEDIA_TYPES = /octet-stream|\.layer\.|\.config\.|rootfs|container\.image\.v1\+json/;

/**
 * Turns a distribution notification envelope into changes: a manifest push with a tag, a tag delete, a
 * manifest delete (by digest). Blob, pull and HEAD events, and pushes by digest, give none. The shape is checked
 * here; names, digests and times are checked whole by `applyRegistryChanges` before anything is stored.
 */
export const parseDistributionWebhook = (body: unknown): RegistryChange[] => {
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) throw badRequest('not a registry notification envelope ({"events":[...]}, at most 1000 events)');
  return envelope.data.events.flatMap((raw, index): RegistryChange[] => {
    const at = `events[${index}]`;
    const parsed = Event.safeParse(raw);
    if (!parsed.success)
      throw badRequest(`${at} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`, { index, at });
    const { action, target, timestamp } = parsed.data;
    const eventTime = Date.parse(timestamp);
    const path = target.repository;
    const operator = operatorOf(Actor.safeParse(parsed.data.actor).data?.name);
    const by = operator ? { operator } : {};
    if (action === 'push' && target.tag && target.digest && !BLOB_MEDIA_TYPES.test(target.mediaType ?? '')) {
      const size = imageSizeOf(target.mediaType, target.references);
      return [{ action: 'push', path, tag: target.tag, digest: target.digest, eventTime, at, ...by, ...(size === undefined ? {} : { details: { size } }) }];
    }
    if (action === 'delete' && target.tag) return [{ action: 'delete-tag', path, tag: target.tag, eventTime, at, ...by }];
    if (action === 'delete' && target.digest) return [{ action: 'delete-digest', path, digest: target.digest, eventTime, at, ...by }];
    return [];
  });
};
