import type { BusEvent } from '../../events/contract.ts';
import { Repository, Tag } from '../domain/model.ts';
import { keys } from './keys.ts';
import { pendingMark } from './pending.ts';
import type { TableOps } from './table.ts';
import { setWithMark } from './update-with-mark.ts';

/** Repositories and tags: what the registries hold, ordered by the registry's own event time. */
export const catalogRepository = (ops: TableOps) => ({
  /** Idempotent: records that a repository exists in a space (so the space can be re-derived). */
  ensureRepository: (repo: Pick<Repository, 'registryId' | 'space' | 'repository' | 'path'>) =>
    ops.update(keys.repository(repo.registryId, repo.space, repo.path), {
      UpdateExpression: 'SET entityType = :e, registryId = :r, #space = :s, #repository = :repo, #path = :p',
      ExpressionAttributeNames: { '#space': 'space', '#repository': 'repository', '#path': 'path' },
      ExpressionAttributeValues: { ':e': 'Repository', ':r': repo.registryId, ':s': repo.space, ':repo': repo.repository, ':p': repo.path },
    }),
  /** Records where the repository's index rows live (see `Repository.indexedAudiences`). */
  recordIndexed: (registryId: string, space: string, path: string, image: string, audiences: readonly string[]) =>
    ops.update(keys.repository(registryId, space, path), {
      UpdateExpression: 'SET indexedImage = :i, indexedAudiences = :a',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':i': image, ':a': [...audiences] },
    }),
  repository: (registryId: string, space: string, path: string) => ops.get(Repository, keys.repository(registryId, space, path)),
  repositories: (registryId: string, space: string) => ops.queryAll(Repository, keys.repositoriesOfSpace(registryId, space)),
  /** Every tag item of a repository, tombstones included. */
  tags: (registryId: string, path: string) => ops.queryAll(Tag, keys.tagsOfRepository(registryId, path)),

  /** Applies a push unless the tag already holds a state at least as new. False = nothing changed. */
  push: (tag: Omit<Tag, 'state'>, event: BusEvent) =>
    ops.put(
      { ...keys.tag(tag.registryId, tag.path, tag.tag), entityType: 'Tag', ...tag, state: 'present', ...pendingMark(event) },
      {
        ConditionExpression: 'attribute_not_exists(pk) OR eventTime < :t',
        ExpressionAttributeValues: { ':t': tag.eventTime },
      },
    ),

  /** Leaves a tombstone; with an equal event time a delete wins over a push. False = nothing changed. */
  delete: (tag: Omit<Tag, 'state' | 'digest'>, event: BusEvent) =>
    ops.update(
      keys.tag(tag.registryId, tag.path, tag.tag),
      setWithMark(
        { entityType: 'Tag', registryId: tag.registryId, space: tag.space, repository: tag.repository, path: tag.path, tag: tag.tag, state: 'deleted', eventTime: tag.eventTime },
        event,
        'attribute_not_exists(pk) OR eventTime < :t OR (eventTime = :t AND #st = :present)',
        { values: { ':t': tag.eventTime, ':present': 'present' }, names: { '#st': 'state' } },
      ),
    ),

  /** Removes a repository and its tags (space purge). */
  purgeRepository: async (registryId: string, space: string, path: string) => {
    const tags = await ops.queryAll(Tag, keys.tagsOfRepository(registryId, path));
    await ops.batchWrite([], [...tags.map((t) => keys.tag(registryId, path, t.tag)), keys.repository(registryId, space, path)]);
  },
});
