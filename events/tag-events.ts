import * as z from 'zod';
import { Digest, RegistryId, RepositoryName, SpaceName, TagName } from '../shared/domain/model.ts';
import { keys } from '../shared/store/keys.ts';
import { defineEvent } from './contract.ts';

const TagRef = z.object({
  registryId: RegistryId,
  space: SpaceName,
  path: RepositoryName,
  tag: TagName,
  /** The registry's event time, ms since epoch. */
  eventTime: z.number().int(),
});

const tagKey = (t: Pick<z.infer<typeof TagRef>, 'registryId' | 'path' | 'tag'>) => keys.tag(t.registryId, t.path, t.tag);

export const TagPushed = defineEvent('TagPushed', 1, TagRef.extend({ digest: Digest }), tagKey);
export const TagDeleted = defineEvent('TagDeleted', 1, TagRef, tagKey);
/**
 * What a tag's digest is (size, platforms, scan) changed, the digest did not: a reconcile learned it, or a Harbor
 * scan finished. The indexer re-derives the repository, as for a push.
 */
export const TagDetailsChanged = defineEvent('TagDetailsChanged', 1, TagRef.omit({ eventTime: true }).extend({ digest: Digest }), tagKey);
