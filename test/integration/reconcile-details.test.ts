import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpRegistryApi, type RegistryApi } from '../../shared/registries/registry-api.ts';
import { keys } from '../../shared/store/keys.ts';
import { reconcileRegistry } from '../../shared/usecases/reconcile.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { hasDockerRegistry, startDockerRegistry, type DockerRegistry } from '../helpers/docker-registry.ts';
import { ctx, testDeps } from '../helpers/deps.ts';
import { writeOciImages } from '../helpers/oci.ts';
import { createTestTable } from '../helpers/table.ts';

const N = 20;

/** The HTTP registry API, counting the manifest reads a reconcile adds; `details: false` is the reconcile before them. */
const countingApi = (details: boolean) => {
  const counts = { manifestReads: 0 };
  const api: RegistryApi = {
    ...httpRegistryApi,
    manifestDetails: async (target, path, digest) => {
      if (!details) return undefined;
      counts.manifestReads++;
      return httpRegistryApi.manifestDetails(target, path, digest);
    },
  };
  return { api, counts };
};

describe('a Docker Registry reconcile reads a manifest only for a digest it has no details of', () => {
  let registry: DockerRegistry;
  let ociDir = '';
  const tables: Awaited<ReturnType<typeof createTestTable>>[] = [];

  beforeAll(async () => {
    if (!hasDockerRegistry()) throw new Error('needs Debian packages docker-registry, skopeo and apache2-utils (see .ci/run)');
    registry = await startDockerRegistry();
    ociDir = await mkdtemp(join(tmpdir(), 'oci-reconcile-details-'));
    const images = await writeOciImages(ociDir, Array.from({ length: N }, (_, i) => `img${i}`), 'reconcile-details');
    for (const [i, image] of images.entries()) await registry.push(image.ref, `team/app${i % 5}:t${i}`);
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    for (const t of tables) await t.drop();
    await rm(ociDir, { recursive: true, force: true });
  });

  /** Two reconciles of the same registry on a fresh table: the first imports, the second finds nothing changed. */
  const twice = async (details: boolean) => {
    const t = await createTestTable(inject('dynamoEndpoint'));
    tables.push(t);
    const { api, counts } = countingApi(details);
    const env = testDeps(t.store, { registryApi: api });
    const created = await registerRegistry({ name: 'dr', kind: 'docker-registry', mode: 'integrated', url: registry.url, credentials: { username: registry.username, password: registry.password } }, env.deps, ctx);
    const stored = await t.store.registries.get(created.id);
    if (!stored) throw new Error('registry not stored');
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const before = counts.manifestReads;
      const started = performance.now();
      const report = await reconcileRegistry(stored, env.deps, ctx);
      runs.push({ ms: Math.round(performance.now() - started), manifestReads: counts.manifestReads - before, report });
    }
    const tags = (await Promise.all(Array.from({ length: 5 }, (_, i) => t.store.catalog.tags(created.id, `team/app${i}`)))).flat();
    return { runs, tags };
  };

  it('costs one GET per new digest on the first run and none on an unchanged registry (measured)', async () => {
    // A first round warms the registry, the table and the code paths: the order of the two measured ones is not a cost.
    await twice(false);
    const before = await twice(false);
    const after = await twice(true);
    expect(before.runs.map((r) => r.report.tags)).toEqual([{ pushed: N, deleted: 0 }, { pushed: 0, deleted: 0 }]);
    expect(after.runs.map((r) => r.report.tags)).toEqual([{ pushed: N, deleted: 0 }, { pushed: 0, deleted: 0 }]);
    expect(after.runs.map((r) => r.manifestReads)).toEqual([N, 0]);
    expect(after.runs[0]?.report.details).toEqual({ annotated: 0, read: N, found: N });
    expect(after.tags).toHaveLength(N);
    for (const t of after.tags) expect(t.size).toBeGreaterThan(0);
    expect(before.tags.every((t) => t.size === undefined)).toBe(true);
    console.log(
      `reconcile of ${N} tags in 5 repositories, ms (first, unchanged): before ${before.runs.map((r) => r.ms).join(', ')}; ` +
        `after ${after.runs.map((r) => r.ms).join(', ')}; extra manifest GETs after: ${after.runs.map((r) => r.manifestReads).join(', ')}`,
    );
  });

  it('fills in the details of tags stored without them or without their platform, once', async () => {
    // A table filled by the reconcile before details (the measured "before").
    const t = tables[1];
    if (!t) throw new Error('no table');
    const [registryItem] = await t.store.registries.list();
    if (!registryItem) throw new Error('no registry');
    const { api, counts } = countingApi(true);
    const env = testDeps(t.store, { registryApi: api });
    const first = await reconcileRegistry(registryItem, env.deps, ctx);
    expect(first.details).toEqual({ annotated: N, read: N, found: N });
    expect((await t.store.catalog.tags(registryItem.id, 'team/app0')).every((tag) => (tag.size ?? 0) > 0)).toBe(true);
    const second = await reconcileRegistry(registryItem, env.deps, ctx);
    expect(second.details).toEqual({ annotated: 0, read: 0, found: 0 });
    expect(counts.manifestReads).toBe(N);
    expect((await t.store.catalog.tags(registryItem.id, 'team/app0')).map((tag) => tag.platforms)).toContainEqual(['linux/amd64']);

    // A webhook push tells an image's size, never its platform: such a tag is read once more, for its platform.
    const [pushed] = await t.store.catalog.tags(registryItem.id, 'team/app0');
    if (!pushed) throw new Error('no tag');
    await t.table.db.send(new UpdateCommand({ TableName: t.table.name, Key: keys.tag(registryItem.id, 'team/app0', pushed.tag), UpdateExpression: 'REMOVE platforms' }));
    const third = await reconcileRegistry(registryItem, env.deps, ctx);
    expect(third.details).toEqual({ annotated: 1, read: 1, found: 1 });
    expect((await t.store.catalog.tags(registryItem.id, 'team/app0')).find((tag) => tag.tag === pushed.tag)?.platforms).toEqual(['linux/amd64']);
    expect((await reconcileRegistry(registryItem, env.deps, ctx)).details).toEqual({ annotated: 0, read: 0, found: 0 });
  });
});
