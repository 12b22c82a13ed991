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
  }),
  /** Who acted (`actor.name`, the authenticated user): read by `operatorOf`, so a strange one never refuses the event. */
  actor: z.unknown().optional(),
});
const Actor = z.object({ name: z.unknown() });
const Envelope = z.object({ events: z.array(z.unknown()).max(1000) });

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
    if (action === 'push' && target.tag && target.digest && !BLOB_MEDIA_TYPES.test(target.mediaType ?? ''))
      return [{ action: 'push', path, tag: target.tag, digest: target.digest, eventTime, at, ...by }];
    if (action === 'delete' && target.tag) return [{ action: 'delete-tag', path, tag: target.tag, eventTime, at, ...by }];
    if (action === 'delete' && target.digest) return [{ action: 'delete-digest', path, digest: target.digest, eventTime, at, ...by }];
    return [];
  });
};
