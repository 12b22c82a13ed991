import { mkdtempSync, rmSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createDistributionClient } from '../../shared/registries/distribution-client.ts';
import { hasDockerRegistry, startDockerRegistry, type DockerRegistry, registrationOf } from '../helpers/docker-registry.ts';
import { writeOciImages, writeOciMultiArchImage, type OciImage } from '../helpers/oci.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';
import { SECRET_PLACEHOLDER } from '../../shared/usecases/webhook-config.ts';

const Created = z.object({ id: z.string(), host: z.string(), webhook: z.object({ url: z.string(), secret: z.string() }) });
const Config = z.object({ format: z.literal('yaml'), url: z.string(), snippet: z.string() });
const Page = z.object({ items: z.array(z.object({ image: z.string() })), nextCursor: z.string().nullable() });
const Tags = z.object({ items: z.array(z.object({ tag: z.string(), digest: z.string() })) });
const RegistryView = z.object({ status: z.string(), lastSuccessAt: z.string().optional(), statusMessage: z.string().optional() });

type Holdings = Record<string, Record<string, string>>;

describe('a real Docker Registry 2.8 notifying the service as npm start runs it', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'image-registry-dr-e2e-'));
  const ociDir = mkdtempSync(join(tmpdir(), 'oci-dr-e2e-'));
  let svc: Service;
  let registry: DockerRegistry;
  let reg: z.infer<typeof Created>;
  let baseConfig: string;
  let images: Record<string, OciImage>;

  const client = () => createDistributionClient({ url: registry.url, credentials: { username: registry.username, password: registry.password } });
  const push = async (name: string, repoAndTag: string) => (await registry.push(images[name]?.ref ?? name, repoAndTag)).digest;

  /** What the registry really holds, read as a client without our index would: catalog → tags → digest. */
  const holdings = async (): Promise<Holdings> => {
    const out: Holdings = {};
    for (const path of await client().catalog()) {
      const tags: Record<string, string> = {};
      for (const tag of await client().tags(path)) {
        const digest = await client().manifestDigest(path, tag);
        if (digest) tags[tag] = digest;
      }
      if (Object.keys(tags).length) out[`${reg.host}/${path}`] = tags;
    }
    return out;
  };

  /** What a namespace's selector offers: every image with every tag and digest. */
  const offered = async (ns: string): Promise<Holdings> => {
    const page = Page.parse((await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/images?limit=100`)).body);
    const out: Holdings = {};
    for (const { image } of page.items) {
      const res = await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/tags?image=${encodeURIComponent(image)}`);
      // Withdrawn between the two reads.
      if (res.status === 404) continue;
      out[image] = Object.fromEntries(Tags.parse(res.body).items.map((t) => [t.tag, t.digest]));
    }
    return out;
  };

  const matches = async () => {
    const want = await holdings();
    for (const ns of ['shop', 'blog', 'nobody']) if (JSON.stringify(await offered(ns)) !== JSON.stringify(want)) return false;
    return true;
  };

  /** Points the registry's notifications at the service, with the snippet the service hands out, and restarts it. */
  const pasteWebhookConfig = async () => {
    const res = await svc.call('GET', `/api/v1/registries/${reg.id}/webhook-config`);
    expect(res.status).toBe(200);
    const config = Config.parse(res.body);
    await writeFile(join(registry.dir, 'config.yml'), baseConfig);
    // The snippet never holds the secret: the admin fills in the one shown at registration.
    expect(config.snippet).not.toContain(reg.webhook.secret);
    await appendFile(join(registry.dir, 'config.yml'), config.snippet.replace(SECRET_PLACEHOLDER, reg.webhook.secret));
    await registry.restart();
    return config;
  };

  beforeAll(async () => {
    // Never skipped: .ci/run installs these Debian packages.
    if (!hasDockerRegistry()) throw new Error('needs Debian packages docker-registry, skopeo and apache2-utils (see .ci/run)');
    [svc, registry] = await Promise.all([startService({ dataDir }), startDockerRegistry()]);
    baseConfig = await readFile(join(registry.dir, 'config.yml'), 'utf8');
    const res = await svc.call('POST', '/api/v1/registries', registrationOf(registry));
    expect(res.status).toBe(201);
    reg = Created.parse(res.body);
    const written = await writeOciImages(ociDir, ['one', 'two', 'three', 'four'], 'dr-e2e');
    images = Object.fromEntries(written.map((i) => [i.name, i]));
    expect((await svc.call('PUT', '/api/v1/workspaces/team-a', {})).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/shop', { workspaceId: 'team-a' })).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/blog', { workspaceId: null })).status).toBe(201);
  });

  afterAll(async () => {
    await registry?.stop();
    await svc?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(ociDir, { recursive: true, force: true });
  });

  it('hands out a notifications snippet that the registry loads and posts with', async () => {
    const config = await pasteWebhookConfig();
    expect(config.url).toBe(reg.webhook.url);
    expect(config.snippet).toContain(`Authorization: ["Bearer ${SECRET_PLACEHOLDER}"]`);
    // 2.8 ignores `ignore.actions` unless a media type is ignored too.
    expect(config.snippet).toMatch(/ignoredmediatypes:\n\s+- application\/octet-stream/);
    const { endpoints } = await registry.debugVars();
    expect(endpoints.map((e) => e.url)).toEqual([reg.webhook.url]);
  });

  it('offers a push through the registry’s own notification, to every namespace', async () => {
    await push('one', 'alpine:3.20');
    await push('two', 'team/app:1.0');
    await eventually(matches, 5000);
    expect(Object.keys(await offered('blog')).sort()).toEqual([`${reg.host}/alpine`, `${reg.host}/team/app`]);
    const { endpoints } = await registry.debugVars();
    // Blob and pull events were filtered out by the registry itself: every delivery was a manifest or tag event we took.
    expect(endpoints[0]?.failures).toBe(0);
  });

  it('follows a tag moved to another digest, for which the registry sends only a push', async () => {
    const moved = await push('three', 'team/app:1.0');
    await eventually(async () => (await offered('shop'))[`${reg.host}/team/app`]?.['1.0'] === moved, 5000);
    expect(await matches()).toBe(true);
  });

  it('removes every tag of a manifest deleted by digest (one tag delete per tag follows the manifest delete)', async () => {
    const digest = await push('four', 'team/gone:1.0');
    await push('four', 'team/gone:stable');
    await eventually(async () => Object.keys((await offered('shop'))[`${reg.host}/team/gone`] ?? {}).length === 2, 5000);
    await registry.deleteManifest('team/gone', digest);
    await eventually(async () => (await offered('shop'))[`${reg.host}/team/gone`] === undefined, 5000);
    expect(await matches()).toBe(true);
  });

  it('offers a multi-arch image by its index digest, and nothing for its children pushed by digest', async () => {
    const multi = await writeOciMultiArchImage(ociDir, 'multi', 'dr-e2e');
    expect((await registry.push(multi.ref, 'team/multi:1.0', { all: true })).digest).toBe(multi.digest);
    await eventually(async () => (await offered('shop'))[`${reg.host}/team/multi`]?.['1.0'] === multi.digest, 5000);
    expect(await matches()).toBe(true);
  });

  it('repairs what a registry restart lost: after a sync every namespace’s selector matches the registry', async () => {
    // The service goes away; the registry queues what follows in memory, then restarts and forgets it.
    await svc.stop();
    await push('one', 'team/late:1.0');
    await push('two', 'alpine:3.20');
    await registry.deleteManifest('team/multi', (await client().manifestDigest('team/multi', '1.0')) ?? '');
    await eventually(async () => ((await registry.debugVars()).endpoints[0]?.pending ?? 0) > 0, 5000);
    svc = await startService({ dataDir });
    await pasteWebhookConfig();
    expect((await registry.debugVars()).endpoints[0]?.pending).toBe(0);

    const before = await offered('shop');
    expect(before[`${reg.host}/team/late`]).toBeUndefined();
    expect(before[`${reg.host}/team/multi`]).toBeDefined();
    expect(before[`${reg.host}/alpine`]?.['3.20']).not.toBe(images.two?.digest);

    const sync = await svc.call('POST', `/api/v1/registries/${reg.id}/sync`);
    expect(sync.status).toBe(202);
    await eventually(matches, 10_000);
    const after = RegistryView.parse((await svc.call('GET', `/api/v1/registries/${reg.id}`)).body);
    expect(after).toMatchObject({ status: 'healthy', lastSuccessAt: expect.any(String) });
    expect(after.statusMessage).toBeUndefined();
  });

  it('records the registry as unreachable when a sync cannot list it, and changes nothing', async () => {
    const before = await offered('shop');
    const { lastSuccessAt } = RegistryView.parse((await svc.call('GET', `/api/v1/registries/${reg.id}`)).body);
    await registry.stop();
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/sync`)).status).toBe(202);
    await eventually(async () => RegistryView.parse((await svc.call('GET', `/api/v1/registries/${reg.id}`)).body).status === 'unreachable', 10_000);
    const view = RegistryView.parse((await svc.call('GET', `/api/v1/registries/${reg.id}`)).body);
    expect(view.statusMessage).toMatch(/unreachable|did not answer/);
    expect(view.lastSuccessAt).toBe(lastSuccessAt);
    expect(await offered('shop')).toEqual(before);
  });
});
