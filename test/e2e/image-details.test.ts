import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { hasDockerRegistry, registrationOf, startDockerRegistry, type DockerRegistry } from '../helpers/docker-registry.ts';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { fixture } from '../helpers/fixtures.ts';
import { harborAuthorization } from '../helpers/harbor-events.ts';
import { writeOciImages, writeOciMultiArchImage } from '../helpers/oci.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const Created = z.object({ id: z.string(), host: z.string(), webhook: z.object({ secret: z.string() }) });
const Scan = z.object({ severity: z.string(), total: z.number(), fixable: z.number(), counts: z.record(z.string(), z.number()), scanner: z.string().optional() });
const Tag = z.object({ tag: z.string(), digest: z.string(), size: z.number().optional(), platforms: z.array(z.string()).optional(), scan: Scan.optional() });
const Page = z.object({ items: z.array(z.object({ image: z.string(), visibility: z.string(), latestTag: Tag })) });
const Tags = z.object({ items: z.array(Tag) });
const REPORT = 'application/vnd.security.vulnerability.report; version=1.1';

/** The captured SCANNING_COMPLETED, about `project/repo@digest`, with a critical finding. */
const scanEvent = (project: string, repo: string, digest: string) => {
  const body = structuredClone(fixture('harbor/scanning_completed.default.json')) as {
    event_data: { resources: { digest: string; resource_url: string; scan_overview: Record<string, Record<string, unknown>> }[]; repository: Record<string, string> };
  };
  const [resource] = body.event_data.resources;
  if (!resource?.scan_overview[REPORT]) throw new Error('fixture changed');
  Object.assign(resource, { digest, resource_url: `harbor.test/${project}/${repo}@${digest}` });
  Object.assign(resource.scan_overview[REPORT], { severity: 'Critical', summary: { total: 7, fixable: 5, summary: { Critical: 2, High: 3, Low: 2 } } });
  body.event_data.repository = { ...body.event_data.repository, name: repo, namespace: project, repo_full_name: `${project}/${repo}` };
  return body;
};

describe('what people choose by: size, platforms and scans, from listings and webhooks', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'image-details-e2e-'));
  const ociDir = mkdtempSync(join(tmpdir(), 'oci-details-e2e-'));
  let svc: Service;
  let registry: DockerRegistry;
  let harbor: FakeHarbor;
  let dr: z.infer<typeof Created>;
  let hb: z.infer<typeof Created>;

  const images = async (ns: string) => Page.parse((await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/images?limit=100`)).body).items;
  const item = async (ns: string, image: string) => (await images(ns)).find((i) => i.image === image);
  const tags = async (ns: string, image: string) => {
    const res = await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/tags?image=${encodeURIComponent(image)}`);
    return res.status === 404 ? undefined : Tags.parse(res.body).items;
  };
  const scanWebhook = (project: string, repo: string, digest: string) =>
    svc.call('POST', `/webhooks/harbor/${hb.id}`, scanEvent(project, repo, digest), null, { authorization: harborAuthorization(hb.webhook.secret, project) });
  const synced = async (id: string) => {
    const started = Date.now();
    expect((await svc.call('POST', `/api/v1/registries/${id}/sync`)).status).toBe(202);
    await eventually(async () => Date.parse(z.object({ statusCheckedAt: z.string() }).parse((await svc.call('GET', `/api/v1/registries/${id}`)).body).statusCheckedAt) >= started, 10_000);
  };

  beforeAll(async () => {
    if (!hasDockerRegistry()) throw new Error('needs Debian packages docker-registry, skopeo and apache2-utils (see .ci/run)');
    [registry, harbor, svc] = await Promise.all([startDockerRegistry(), startFakeHarbor(), startService({ dataDir })]);
    harbor.state.addProject('vault', { public: false });
    harbor.state.addArtifact('vault', 'db', fakeDigest('db-1'), ['1.0'], new Date());
    harbor.state.addProject('apps', { public: true });
    harbor.state.addArtifact('apps', 'web', fakeDigest('web-1'), ['v1'], new Date());
    expect((await svc.call('PUT', '/api/v1/workspaces/team-a', {})).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/shop', { workspaceId: 'team-a' })).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/workspaces/team-b', {})).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/blog', { workspaceId: 'team-b' })).status).toBe(201);
    dr = Created.parse((await svc.call('POST', '/api/v1/registries', registrationOf(registry))).body);
    hb = Created.parse((await svc.call('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials })).body);
    await synced(hb.id);
    expect((await svc.call('PUT', `/api/v1/registries/${hb.id}/spaces/vault/bindings/team-a`)).status).toBe(204);
  });
  afterAll(async () => {
    await svc?.stop();
    await registry?.stop();
    await harbor?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(ociDir, { recursive: true, force: true });
  });

  it('shows both platforms and the size of a real multi-arch push, and an image’s size and platform, after a reconcile', async () => {
    const multi = await writeOciMultiArchImage(ociDir, 'multi', 'details-e2e');
    const [single] = await writeOciImages(ociDir, ['single'], 'details-e2e');
    expect((await registry.push(multi.ref, 'team/multi:1.0', { all: true })).digest).toBe(multi.digest);
    expect((await registry.push(single?.ref ?? '', 'team/single:1.0')).digest).toBe(single?.digest);
    const sizeOf = async (digest: string) => {
      const manifest = JSON.parse(await readFile(join(ociDir, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { config: { size: number }; layers: { size: number }[] };
      return manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
    };
    const size = await sizeOf(single?.digest ?? '');
    const indexSize = (await Promise.all(multi.manifests.map((m) => sizeOf(m.digest)))).reduce((a, n) => a + n, 0);
    await synced(dr.id);
    const multiImage = `${dr.host}/team/multi`;
    await eventually(async () => (await item('blog', multiImage))?.latestTag.platforms !== undefined, 5000);
    expect((await item('blog', multiImage))?.latestTag).toMatchObject({ tag: '1.0', digest: multi.digest, platforms: ['linux/amd64', 'linux/arm64/v8'], size: indexSize });
    expect((await tags('blog', multiImage))?.[0]).toMatchObject({ platforms: ['linux/amd64', 'linux/arm64/v8'] });
    expect((await item('shop', `${dr.host}/team/single`))?.latestTag).toMatchObject({ digest: single?.digest, size, platforms: ['linux/amd64'] });
    expect((await tags('shop', `${dr.host}/team/single`))?.[0]?.size).toBe(size);
  });

  it('shows a Harbor scan webhook’s summary on the tags it names, only to those who may see the image', async () => {
    const image = `${hb.host}/vault/db`;
    await eventually(async () => (await item('shop', image)) !== undefined, 5000);
    expect((await item('shop', image))?.latestTag.scan).toBeUndefined();
    const res = await scanWebhook('vault', 'db', fakeDigest('db-1'));
    expect(res.status).toBe(200);
    const want = { severity: 'critical', total: 7, fixable: 5, counts: { critical: 2, high: 3, medium: 0, low: 2, unknown: 0 }, scanner: 'Trivy v0.37.2' };
    await eventually(async () => (await item('shop', image))?.latestTag.scan?.severity === 'critical', 5000);
    expect((await item('shop', image))?.latestTag.scan).toEqual(want);
    expect((await tags('shop', image))?.[0]?.scan).toEqual(want);
    // The isolation promise holds: another workspace's namespace is offered nothing of the private image.
    expect((await images('blog')).map((i) => i.image)).not.toContain(image);
    expect(await tags('blog', image)).toBeUndefined();
    expect((await svc.call('GET', `/api/v1/registries/${hb.id}/spaces/vault`)).body).toMatchObject({ visibility: 'private' });
  });

  it('refuses a scan it cannot read whole with 400, storing nothing of it', async () => {
    const image = `${hb.host}/vault/db`;
    const before = await tags('shop', image);
    const body = scanEvent('vault', 'db', fakeDigest('db-1'));
    const report = body.event_data.resources[0]?.scan_overview[REPORT];
    if (!report) throw new Error('fixture changed');
    body.event_data.resources.push({ ...structuredClone(body.event_data.resources[0] ?? { digest: '', resource_url: '', scan_overview: {} }) });
    Object.assign(report, { severity: 'Low', summary: { total: 1, fixable: 0, summary: { Low: 1 } } });
    const second = body.event_data.resources[1]?.scan_overview[REPORT];
    if (second) second.summary = { total: 'many' };
    const res = await svc.call('POST', `/webhooks/harbor/${hb.id}`, body, null, { authorization: harborAuthorization(hb.webhook.secret, 'vault') });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: expect.any(String), details: { at: 'event_data.resources[1]', field: 'scan_overview' } });
    expect(await tags('shop', image)).toEqual(before);
  });

  it('changes nothing for a scan of a digest, repository or project the service does not know', async () => {
    const before = { shop: await images('shop'), blog: await images('blog') };
    const spaces = (await svc.call('GET', `/api/v1/registries/${hb.id}/spaces`)).body;
    for (const [project, repo, digest] of [
      ['apps', 'web', fakeDigest('never-pushed')],
      ['apps', 'nothere', fakeDigest('web-1')],
      ['ghost', 'app', fakeDigest('web-1')],
    ] as const)
      expect((await scanWebhook(project, repo, digest)).status).toBe(200);
    // The tags answer reads the truth: no scan went on a tag of another digest.
    expect((await tags('blog', `${hb.host}/apps/web`))?.[0]?.scan).toBeUndefined();
    // A later change goes through the same indexer: once it shows, the scans above were applied (or ignored).
    expect((await scanWebhook('apps', 'web', fakeDigest('web-1'))).status).toBe(200);
    await eventually(async () => (await item('blog', `${hb.host}/apps/web`))?.latestTag.scan !== undefined, 5000);
    const after = { shop: await images('shop'), blog: await images('blog') };
    expect(after.shop.map((i) => i.image)).toEqual(before.shop.map((i) => i.image));
    expect(after.blog.map((i) => i.image)).toEqual(before.blog.map((i) => i.image));
    expect((await svc.call('GET', `/api/v1/registries/${hb.id}/spaces`)).body).toEqual(spaces);
  });
});
