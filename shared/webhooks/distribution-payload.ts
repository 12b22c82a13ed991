import * as z from 'zod';
import { badRequest } from '../errors.ts';
import type { RegistryChange } from './changes.ts';

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
});
const Envelope = z.object({ events: z.array(z.unknown()) });

const BLOB_MEDIA_TYPES = /octet-stream|\.layer\.|\.config\.|rootfs|container\.image\.v1\+json/;

/**
 * Turns a distribution notification envelope into changes: a manifest push with a tag, a tag delete, a
 * manifest delete (by digest). Blob, pull and HEAD events, and pushes by digest, give none.
 */
export const parseDistributionWebhook = (body: unknown): RegistryChange[] => {
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) throw badRequest('not a registry notification envelope ({"events":[...]})');
  return envelope.data.events.flatMap((raw): RegistryChange[] => {
    const parsed = Event.safeParse(raw);
    if (!parsed.success) throw badRequest('registry notification event is malformed', { issues: parsed.error.issues });
    const { action, target, timestamp } = parsed.data;
    const eventTime = Date.parse(timestamp);
    if (!Number.isFinite(eventTime)) throw badRequest(`registry event time ${timestamp} is not a valid time`);
    const path = target.repository;
    if (action === 'push' && target.tag && target.digest && !BLOB_MEDIA_TYPES.test(target.mediaType ?? ''))
      return [{ action: 'push', path, tag: target.tag, digest: target.digest, eventTime }];
    if (action === 'delete' && target.tag) return [{ action: 'delete-tag', path, tag: target.tag, eventTime }];
    if (action === 'delete' && target.digest) return [{ action: 'delete-digest', path, digest: target.digest, eventTime }];
    return [];
  });
};
