import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Registry } from '../../shared/domain/model.ts';
import { AdmissionReviewV1 } from '../../shared/kubernetes/admission-review.ts';
import { reviewAdmission } from '../../shared/usecases/admission.ts';
import { authenticateCluster, listAdmissionDecisions, putCluster, rotateAdmissionToken } from '../../shared/usecases/clusters.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { bindSpace, createSpace, unbindSpace } from '../../shared/usecases/spaces.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { ctx, testDeps, T0 } from '../helpers/deps.ts';
import { createTestTable } from '../helpers/table.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/kubernetes/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

/** The captured Pod CREATE of the fixture, in `namespace`, with `images` as its containers. */
const podReview = (namespace: string, images: string[], extra: Record<string, unknown> = {}) => {
  const review = structuredClone(fixture('admissionreview-v1-pod-create.json')) as { request: Record<string, unknown> & { object: { metadata: Record<string, unknown>; spec: Record<string, unknown> } } };
  review.request.namespace = namespace;
  review.request.object.metadata.namespace = namespace;
  review.request.object.spec.initContainers = [];
  review.request.object.spec.containers = images.map((image, i) => ({ name: `c${i}`, image }));
  Object.assign(review.request, extra);
  return AdmissionReviewV1.parse(review);
};

describe('the admission decision on DynamoDB Local', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  let harbor: Registry;
  let token: string;

  const review = async (namespace: string, images: string[], extra: Record<string, unknown> = {}) => {
    const cluster = await authenticateCluster('c1', `Bearer ${token}`, env.deps);
    return (await reviewAdmission(cluster, podReview(namespace, images, extra), env.deps)).response;
  };

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store);
    const r = await registerRegistry({ name: 'h', kind: 'harbor', mode: 'integrated', url: 'https://harbor.test' }, env.deps, ctx);
    harbor = (await t.store.registries.get(r.id))!;
    for (const w of ['team-a', 'team-b']) await putWorkspace(w, {}, env.deps, ctx);
    await putNamespace('c1', 'ns-a', { workspaceId: 'team-a' }, env.deps, ctx);
    await putNamespace('c1', 'ns-b', { workspaceId: 'team-b' }, env.deps, ctx);
    await createSpace(harbor.id, { name: 'pub', visibility: 'public' }, env.deps, ctx);
    await createSpace(harbor.id, { name: 'sec', visibility: 'private' }, env.deps, ctx);
    await applyRegistryChanges(harbor, [
      { action: 'push', path: 'pub/web', tag: 'v1', digest: digest(1), eventTime: T0 + 1000 },
      { action: 'push', path: 'sec/db', tag: 'v1', digest: digest(2), eventTime: T0 + 1000 },
    ], env.deps, ctx);
    await bindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    await env.deliver();
    const created = await putCluster('c1', { unmanagedImages: 'deny' }, env.deps, ctx);
    token = (created.body as { admissionToken: string }).admissionToken;
  });
  afterAll(() => t.drop());

  it('allows a bound private image in its workspace and refuses it elsewhere, without naming who has it', async () => {
    expect(await review('ns-a', ['harbor.test/sec/db:v1'])).toMatchObject({ allowed: true });
    const refused = await review('ns-b', ['harbor.test/sec/db:v1']);
    expect(refused.allowed).toBe(false);
    expect(refused.status?.code).toBe(403);
    expect(refused.status?.message).toContain('container c0 (harbor.test/sec/db:v1): not offered to workspace team-b');
    expect(refused.status?.message).not.toContain('team-a');
  });

  it('refuses at once when the binding goes, before the indexer has applied it', async () => {
    await unbindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    try {
      expect(await review('ns-a', ['harbor.test/sec/db'])).toMatchObject({ allowed: false });
    } finally {
      await bindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
      await env.deliver();
    }
    expect(await review('ns-a', ['harbor.test/sec/db'])).toMatchObject({ allowed: true });
  });

  it('refuses image IDs, unreadable objects and too many images with an answer, never an error', async () => {
    await putCluster('c1', { unmanagedImages: 'allow' }, env.deps, ctx);
    try {
      // containerd resolves these against the node's cache: they would run another workspace's image unchecked.
      for (const id of [`sha256:${'ab'.repeat(32)}`, 'deadbeef', '3f2a9c:latest'])
        expect(await review('ns-b', [id]), id).toMatchObject({ allowed: false, status: { code: 403, message: expect.stringContaining('an image ID') } });
      expect(await review('ns-b', ['docker.io/library/nginx'])).toMatchObject({ allowed: true });
      // Under failurePolicy Ignore an error answer would admit the object: these are refused instead.
      const long = await review('ns-a', ['harbor.test/sec/db', `harbor.test/${'a'.repeat(4100)}`]);
      expect(long).toMatchObject({ allowed: false, status: { message: expect.stringContaining('cannot be checked') } });
      const many = await review('ns-a', ['harbor.test/sec/db', ...Array.from({ length: 64 }, (_, i) => `harbor.test/pub/web:t${i}`)]);
      expect(many).toMatchObject({ allowed: false, status: { message: expect.stringContaining('65 distinct images') } });
      const crowd = await review('ns-a', Array.from({ length: 1001 }, () => 'harbor.test/pub/web'));
      expect(crowd).toMatchObject({ allowed: false, status: { message: expect.stringContaining('over 1000 containers') } });
      expect(await review('ns-a', Array.from({ length: 64 }, (_, i) => `harbor.test/pub/web:t${i}`))).toMatchObject({ allowed: true });
    } finally {
      await putCluster('c1', { unmanagedImages: 'deny' }, env.deps, ctx);
    }
  });

  it('records refusals but not dry runs, and keeps working with the previous token during its grace', async () => {
    const before = (await listAdmissionDecisions('c1', { limit: 500 }, env.deps)).refusals;
    await review('ns-b', ['harbor.test/sec/db'], { dryRun: true });
    expect((await listAdmissionDecisions('c1', { limit: 500 }, env.deps)).refusals).toBe(before);
    await review('ns-b', ['harbor.test/sec/db', 'docker.io/library/nginx']);
    const log = await listAdmissionDecisions('c1', { limit: 500 }, env.deps);
    expect(log.refusals).toBe(before + 1);
    expect(log.items[0]?.images.map((i) => [i.image, i.link])).toEqual([
      ['harbor.test/sec/db', 'grant'],
      ['docker.io/library/nginx', 'unmanaged'],
    ]);
    const old = token;
    token = (await rotateAdmissionToken('c1', {}, env.deps, ctx)).admissionToken;
    await expect(authenticateCluster('c1', `Bearer ${old}`, env.deps)).resolves.toMatchObject({ cluster: 'c1' });
    token = (await rotateAdmissionToken('c1', { graceSeconds: 0 }, env.deps, ctx)).admissionToken;
    await expect(authenticateCluster('c1', `Bearer ${old}`, env.deps)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(authenticateCluster('nope', `Bearer ${token}`, env.deps)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
