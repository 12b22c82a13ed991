import { mkdtempSync, rmSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { SECRET_PLACEHOLDER } from '../../shared/usecases/webhook-config.ts';
import { hasDockerRegistry, registrationOf, startDockerRegistry, type DockerRegistry } from '../helpers/docker-registry.ts';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { harborAuthorization, harborEvent } from '../helpers/harbor-events.ts';
import { writeOciImages, type OciImage } from '../helpers/oci.ts';
import { authsOf } from '../helpers/pull-secrets.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const Created = z.object({ id: z.string(), host: z.string(), ownerWorkspaceId: z.string().optional(), webhook: z.object({ url: z.string(), secret: z.string() }) });
const Registries = z.object({ items: z.array(z.object({ id: z.string(), ownerWorkspaceId: z.string().optional() })) });
const Page = z.object({ items: z.array(z.object({ image: z.string(), grantedBy: z.array(z.string()) })) });
const Config = z.object({ snippet: z.string() });
const Explanation = z.object({ visible: z.boolean(), facts: z.array(z.object({ link: z.string(), holds: z.boolean(), statement: z.string() })), pullAccess: z.unknown() });
const Items = z.object({ items: z.array(z.record(z.string(), z.unknown())) });

const T0 = Math.floor(Date.now() / 1000) - 3600;

/**
 * Kangaroo's second quick start: the admin of workspace team-a connects a Harbor (the fake) and a real Docker Registry
 * for team-a alone. Every image in them, public in Harbor included, is offered to team-a's namespaces and nobody
 * else's; the same admin is refused on everything that is not team-a's.
 */
describe('a workspace admin connects registries their workspace owns', () => {
  const ociDir = mkdtempSync(join(tmpdir(), 'oci-ws-admin-'));
  let svc: Service;
  let harbor: FakeHarbor;
  let platformHarbor: FakeHarbor;
  let registry: DockerRegistry;
  let images: Record<string, OciImage>;
  let ownedHarbor: z.infer<typeof Created>;
  let ownedDocker: z.infer<typeof Created>;
  let platform: z.infer<typeof Created>;
  let adminA: string;
  let readerA: string;

  const as = (token: string) => (method: string, path: string, body?: unknown) => svc.call(method, path, body, token);
  const offered = async (ns: string) =>
    Object.fromEntries(Page.parse((await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/images?limit=100`)).body).items.map((i) => [i.image, i.grantedBy]));
  const hostsOf = (images: Record<string, unknown>, host: string) => Object.keys(images).filter((i) => i.startsWith(`${host}/`)).sort();

  beforeAll(async () => {
    if (!hasDockerRegistry()) throw new Error('needs Debian packages docker-registry, skopeo and apache2-utils (see .ci/run)');
    [svc, harbor, platformHarbor, registry] = await Promise.all([startService(), startFakeHarbor(), startFakeHarbor(), startDockerRegistry()]);
    adminA = svc.token({ sub: 'alice', roles: ['workspace-admin:team-a'] });
    readerA = svc.token({ sub: 'rita', workspaces: ['team-a'] });
    // What team-a's Harbor holds when it is connected: a public project (public *in Harbor*) and a private one.
    harbor.state.addProject('apps', { public: true });
    harbor.state.addArtifact('apps', 'web', fakeDigest('web-1'), ['v1'], new Date(T0 * 1000));
    harbor.state.addProject('vault', { public: false });
    harbor.state.addArtifact('vault', 'db', fakeDigest('db-1'), ['1.0'], new Date(T0 * 1000));
    platformHarbor.state.addProject('shared', { public: false });
    images = Object.fromEntries((await writeOciImages(ociDir, ['one'], 'ws-admin')).map((i) => [i.name, i]));
    for (const w of ['team-a', 'team-b']) expect((await svc.call('PUT', `/api/v1/workspaces/${w}`, {})).status).toBe(201);
    for (const [ns, w] of [['shop', 'team-a'], ['blog', 'team-b'], ['loose', null]] as const)
      expect((await svc.call('PUT', `/api/v1/clusters/prod/namespaces/${ns}`, { workspaceId: w })).status).toBe(201);
    const res = await svc.call('POST', '/api/v1/registries', { name: 'platform', kind: 'harbor', mode: 'hosted', url: platformHarbor.url, credentials: platformHarbor.credentials });
    expect(res.status).toBe(201);
    platform = Created.parse(res.body);
  });

  afterAll(async () => {
    await registry?.stop();
    await svc?.stop();
    await harbor?.close();
    await platformHarbor?.close();
    rmSync(ociDir, { recursive: true, force: true });
  });

  it('connects a Harbor for team-a, and only for team-a', async () => {
    const body = { name: 'team-a harbor', kind: 'harbor', mode: 'integrated', url: harbor.url, credentials: harbor.credentials };
    expect((await as(adminA)('POST', '/api/v1/registries', body)).status).toBe(403);
    expect((await as(adminA)('POST', '/api/v1/workspaces/team-b/registries', body)).status).toBe(403);
    expect((await as(readerA)('POST', '/api/v1/workspaces/team-a/registries', body)).status).toBe(403);
    // A public registry everybody pulls from is nobody's own: owning it would refuse its images to every other namespace.
    for (const url of ['https://ghcr.io', 'https://Docker.IO:443'])
      expect((await as(adminA)('POST', '/api/v1/workspaces/team-a/registries', { ...body, url })).status, url).toBe(400);
    const res = await as(adminA)('POST', '/api/v1/workspaces/team-a/registries', body);
    expect(res.status).toBe(201);
    ownedHarbor = Created.parse(res.body);
    expect(ownedHarbor.ownerWorkspaceId).toBe('team-a');
  });

  it('offers every image of team-a’s Harbor, public in Harbor included, to team-a’s namespaces only', async () => {
    expect((await as(adminA)('POST', `/api/v1/registries/${ownedHarbor.id}/sync`)).status).toBe(202);
    const host = ownedHarbor.host;
    await eventually(async () => hostsOf(await offered('shop'), host).length === 2, 10_000);
    const shop = await offered('shop');
    expect(hostsOf(shop, host)).toEqual([`${host}/apps/web`, `${host}/vault/db`]);
    expect(shop[`${host}/apps/web`]).toEqual(['workspace:team-a']);
    // A push through Harbor's webhook, into the public project: team-a again, nobody else.
    const push = harborEvent('PUSH_ARTIFACT', { host, project: 'apps', repo: 'api', tag: 'v1', digest: fakeDigest('api-1'), occurAt: T0 + 60, repoType: 'public' });
    const delivered = await svc.call('POST', `/webhooks/harbor/${ownedHarbor.id}`, push, null, { authorization: harborAuthorization(ownedHarbor.webhook.secret, 'apps') });
    expect(delivered.status).toBe(200);
    await eventually(async () => hostsOf(await offered('shop'), host).includes(`${host}/apps/api`), 5000);
    for (const ns of ['blog', 'loose']) expect(hostsOf(await offered(ns), host)).toEqual([]);
  });

  it('connects a real Docker Registry for team-a: its pushes land, for team-a only', async () => {
    const res = await as(adminA)('POST', '/api/v1/workspaces/team-a/registries', registrationOf(registry));
    expect(res.status).toBe(201);
    ownedDocker = Created.parse(res.body);
    // The admin pastes the notifications snippet the service hands them into the registry's config.
    const config = await as(adminA)('GET', `/api/v1/registries/${ownedDocker.id}/webhook-config`);
    expect(config.status).toBe(200);
    const base = await readFile(join(registry.dir, 'config.yml'), 'utf8');
    await writeFile(join(registry.dir, 'config.yml'), base);
    await appendFile(join(registry.dir, 'config.yml'), Config.parse(config.body).snippet.replace(SECRET_PLACEHOLDER, ownedDocker.webhook.secret));
    await registry.restart();
    await registry.push(images.one?.ref ?? '', 'team/app:1.0');
    const image = `${ownedDocker.host}/team/app`;
    await eventually(async () => image in (await offered('shop')), 10_000);
    expect((await offered('shop'))[image]).toEqual(['workspace:team-a']);
    for (const ns of ['blog', 'loose']) expect(await offered(ns)).not.toHaveProperty(image);
  });

  it('lets team-a’s admin see and manage what team-a owns, and nothing else', async () => {
    const mine = Registries.parse((await as(adminA)('GET', '/api/v1/registries')).body).items.map((r) => r.id).sort();
    expect(mine).toEqual([ownedDocker.id, ownedHarbor.id].sort());
    const all = Registries.parse((await svc.call('GET', '/api/v1/registries')).body).items;
    expect(Object.fromEntries(all.map((r) => [r.id, r.ownerWorkspaceId ?? null]))).toEqual({ [platform.id]: null, [ownedHarbor.id]: 'team-a', [ownedDocker.id]: 'team-a' });
    expect((await as(adminA)('GET', `/api/v1/registries/${ownedHarbor.id}/spaces`)).status).toBe(200);
    // A platform registry and an id that does not exist are refused alike: nothing tells them apart.
    for (const id of [platform.id, 'reg-000000000000', 'not-an-id']) {
      for (const [method, path] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['POST', '/sync'], ['GET', '/spaces'], ['GET', '/webhook-config']] as const) {
        const res = await as(adminA)(method, `/api/v1/registries/${id}${path}`, method === 'PATCH' ? { name: 'mine now' } : undefined);
        expect(res.status, `${method} ${id}${path}`).toBe(403);
      }
    }
    expect(Items.parse((await as(adminA)('GET', '/api/v1/workspaces')).body).items.map((w) => w.id)).toEqual(['team-a']);
    expect((await as(adminA)('GET', '/api/v1/workspaces/team-a')).status).toBe(200);
    expect((await as(adminA)('GET', '/api/v1/workspaces/team-b')).status).toBe(403);
    expect(Items.parse((await as(adminA)('GET', '/api/v1/namespaces')).body).items.map((n) => n.namespace)).toEqual(['shop']);
    // Their selector, as a reader of team-a; not team-b's.
    expect((await as(adminA)('GET', '/api/v1/clusters/prod/namespaces/shop/images')).status).toBe(200);
    expect((await as(adminA)('GET', '/api/v1/clusters/prod/namespaces/blog/images')).status).toBe(403);
    // Platform-admin routes stay closed.
    for (const [method, path] of [['PUT', '/api/v1/workspaces/team-c'], ['PUT', '/api/v1/clusters/prod/namespaces/new'], ['GET', '/api/v1/status'], ['GET', '/api/v1/clusters']] as const)
      expect((await as(adminA)(method, path, method === 'PUT' ? {} : undefined)).status, `${method} ${path}`).toBe(403);
    // A reader of team-a is no admin of it.
    expect((await as(readerA)('GET', '/api/v1/registries')).status).toBe(403);
    expect((await as(readerA)('GET', `/api/v1/registries/${ownedHarbor.id}`)).status).toBe(403);
  });

  it('takes no binding on an owned registry’s spaces, and no binding from a workspace admin', async () => {
    const owned = await svc.call('PUT', `/api/v1/registries/${ownedHarbor.id}/spaces/apps/bindings/team-b`);
    expect(owned.status).toBe(409);
    expect(await offered('blog')).not.toHaveProperty(`${ownedHarbor.host}/apps/web`);
    expect((await svc.call('POST', `/api/v1/registries/${platform.id}/spaces`, { name: 'platform-private', visibility: 'private' })).status).toBe(201);
    expect((await as(adminA)('PUT', `/api/v1/registries/${platform.id}/spaces/platform-private/bindings/team-a`)).status).toBe(403);
  });

  it('explains team-a’s namespaces to team-a’s admin without naming what is not theirs', async () => {
    const explain = async (token: string, ns: string, image: string) =>
      as(token)('GET', `/api/v1/clusters/prod/namespaces/${ns}/explain?image=${encodeURIComponent(image)}`);
    const ownedAnswer = Explanation.parse((await explain(adminA, 'shop', `${ownedHarbor.host}/apps/web`)).body);
    expect(ownedAnswer.visible).toBe(true);
    expect(ownedAnswer.facts.find((f) => f.link === 'grant')?.statement).toContain('owned by workspace team-a');
    expect((await explain(adminA, 'blog', `${ownedHarbor.host}/apps/web`)).status).toBe(403);
    expect((await explain(readerA, 'shop', `${ownedHarbor.host}/apps/web`)).status).toBe(403);
    // Another workspace's private space reads exactly like one that does not exist.
    expect((await svc.call('PUT', `/api/v1/registries/${platform.id}/spaces/platform-private/bindings/team-b`)).status).toBe(204);
    const hidden = Explanation.parse((await explain(adminA, 'shop', `${platform.host}/platform-private/app`)).body);
    const missing = Explanation.parse((await explain(adminA, 'shop', `${platform.host}/no-such-space/app`)).body);
    expect(hidden.facts.map((f) => f.statement.replace('platform-private', 'S'))).toEqual(missing.facts.map((f) => f.statement.replace('no-such-space', 'S')));
    expect(JSON.stringify(hidden)).not.toContain('team-b');
    // The platform admin sees the whole chain.
    const full = Explanation.parse((await explain(svc.adminToken, 'shop', `${platform.host}/platform-private/app`)).body);
    expect(JSON.stringify(full.facts)).toContain('team-b');
  });

  it('puts what team-a’s own registries need into team-a’s pull secrets only', async () => {
    const hostsIn = async (ns: string) => {
      const res = await as(svc.adminToken)('GET', `/api/v1/clusters/prod/namespaces/${ns}/pull-secret`);
      expect(res.status).toBe(200);
      return Object.keys(authsOf(res.text)).sort();
    };
    // team-a's robot on its Harbor holds the private project (the public one pulls anonymously).
    await eventually(async () => (await hostsIn('shop')).includes(ownedHarbor.host), 10_000);
    const robot = harbor.robots().find((r) => r.name.endsWith('team-a'));
    expect(robot?.permissions.map((p) => p.namespace)).toEqual(['vault']);
    expect(await hostsIn('blog')).not.toContain(ownedHarbor.host);
    expect(await hostsIn('loose')).not.toContain(ownedHarbor.host);
    expect((await as(adminA)('GET', '/api/v1/clusters/prod/namespaces/shop/pull-secret')).status).toBe(200);
  });

  it('keeps team-a while it owns registries', async () => {
    const res = await svc.call('DELETE', '/api/v1/workspaces/team-a');
    expect(res.status).toBe(409);
    expect(JSON.stringify(res.body)).toContain(ownedHarbor.id);
  });
});
