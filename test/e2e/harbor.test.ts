import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';
import { harborAuthorization } from '../helpers/harbor-events.ts';

const Created = z.object({ id: z.string(), host: z.string(), webhook: z.object({ url: z.string(), secret: z.string() }) });
const Spaces = z.object({ items: z.array(z.object({ name: z.string(), visibility: z.string() })) });
const Page = z.object({ items: z.array(z.object({ image: z.string(), visibility: z.string(), latestTag: z.object({ tag: z.string(), digest: z.string(), pushedAt: z.string() }) })) });
const Coverage = z.object({ checkedAt: z.string(), covered: z.number(), uncovered: z.array(z.object({ space: z.string(), reason: z.string() })) });
const RegistryView = z.object({ status: z.string(), statusMessage: z.string().optional(), lastSuccessAt: z.string().optional(), webhookCoverage: Coverage.optional() });

const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('a hosted Harbor by its API contract: import, webhook coverage and reconcile', () => {
  let svc: Service;
  let harbor: FakeHarbor;
  let reg: z.infer<typeof Created>;

  const spaces = async () => Object.fromEntries(Spaces.parse((await svc.call('GET', `/api/v1/registries/${reg.id}/spaces`)).body).items.map((s) => [s.name, s.visibility]));
  const selector = async (ns: string) =>
    Object.fromEntries(Page.parse((await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/images?limit=100`)).body).items.map((i) => [i.image, i.latestTag]));
  const view = async () => RegistryView.parse((await svc.call('GET', `/api/v1/registries/${reg.id}`)).body);
  const sync = async () => {
    const started = Date.now();
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/sync`)).status).toBe(202);
    // A sync is done once the registry records an outcome after it was asked for.
    await eventually(async () => {
      const v = RegistryView.extend({ statusCheckedAt: z.string() }).parse((await svc.call('GET', `/api/v1/registries/${reg.id}`)).body);
      return Date.parse(v.statusCheckedAt) >= started;
    }, 5000);
  };
  const policiesOf = (project: string) => harbor.state.policiesOf(harbor.state.findProject(project, true)?.projectId ?? -1);

  beforeAll(async () => {
    harbor = await startFakeHarbor();
    // What the Harbor already holds when it is connected.
    harbor.state.addProject('apps', { public: true });
    harbor.state.addArtifact('apps', 'web', fakeDigest('web-1'), ['v1'], new Date(T0));
    harbor.state.addArtifact('apps', 'web', fakeDigest('web-2'), ['v2'], new Date(T0 + 60_000));
    harbor.state.addProject('vault', { public: false });
    harbor.state.addArtifact('vault', 'db', fakeDigest('db-1'), ['1.0'], new Date(T0));
    svc = await startService();
    expect((await svc.call('PUT', '/api/v1/workspaces/team-a', {})).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/shop', { workspaceId: 'team-a' })).status).toBe(201);
    const res = await svc.call('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials });
    expect(res.status).toBe(201);
    reg = Created.parse(res.body);
  });
  afterAll(async () => {
    await svc?.stop();
    await harbor?.close();
  });

  it('imports the projects, repositories and tags Harbor already holds, with Harbor’s visibility and push times', async () => {
    expect(await spaces()).toEqual({});
    expect((await view()).lastSuccessAt).toBeUndefined();
    await sync();
    expect((await view()).lastSuccessAt).toBeDefined();
    expect(await spaces()).toEqual({ apps: 'public', library: 'public', vault: 'private' });
    await eventually(async () => `${reg.host}/apps/web` in (await selector('shop')), 2000);
    const offered = await selector('shop');
    expect(Object.keys(offered)).toEqual([`${reg.host}/apps/web`]);
    expect(offered[`${reg.host}/apps/web`]).toEqual({ tag: 'v2', digest: fakeDigest('web-2'), pushedAt: new Date(T0 + 60_000).toISOString() });
    expect((await view()).status).toBe('healthy');
  });

  it('registers its webhook policy on every project it knows, and reports full coverage', async () => {
    for (const project of ['apps', 'library', 'vault']) {
      const [policy, ...others] = policiesOf(project);
      expect(others).toEqual([]);
      expect(policy).toMatchObject({
        enabled: true,
        eventTypes: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT', 'SCANNING_COMPLETED'],
        targets: [{ type: 'http', address: reg.webhook.url, auth_header: harborAuthorization(reg.webhook.secret, project), payload_format: 'Default' }],
      });
    }
    expect((await view()).webhookCoverage).toMatchObject({ covered: 3, uncovered: [] });
  });

  it('registers the policy on a project as soon as a space is created, and hands out the same policy to paste, without the secret', async () => {
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/spaces`, { name: 'fresh', visibility: 'private' })).status).toBe(201);
    expect(policiesOf('fresh')).toHaveLength(1);
    const res = await svc.call('GET', `/api/v1/registries/${reg.id}/webhook-config`);
    expect(res.text).not.toContain(reg.webhook.secret);
    const config = z.object({ format: z.literal('json'), snippet: z.string(), deriveProjectSecret: z.string() }).parse(res.body);
    const pasted = z.object({ name: z.string(), enabled: z.boolean(), event_types: z.array(z.string()), targets: z.array(z.looseObject({})) }).parse(JSON.parse(config.snippet));
    const registered = policiesOf('fresh')[0];
    const target = registered?.targets[0];
    expect(pasted).toMatchObject({ name: registered?.name, enabled: true, event_types: registered?.eventTypes, targets: [{ ...target, auth_header: 'Bearer <project secret>' }] });
    // The shell line the admin is given derives exactly the secret the service registered for that project.
    const derived = execFileSync('sh', ['-c', config.deriveProjectSecret], { env: { ...process.env, PROJECT: 'fresh', WEBHOOK_SECRET: reg.webhook.secret } }).toString();
    expect(`Bearer ${derived}`).toBe(target?.auth_header);
  });

  it('keeps a policy that already covers a project, and repairs one that drifted', async () => {
    const before = policiesOf('apps')[0];
    if (!before) throw new Error('no policy on apps');
    before.enabled = false;
    const count = harbor.requests.filter((r) => r.method !== 'GET').length;
    await sync();
    expect(policiesOf('apps')).toEqual([expect.objectContaining({ id: before.id, enabled: true })]);
    // Only the drifted policy was written.
    expect(harbor.requests.filter((r) => r.method !== 'GET').length - count).toBe(1);
  });

  it('sees what Harbor sends no webhook for: a project made, a visibility flipped, a project removed, an artifact deleted', async () => {
    harbor.state.addProject('made-in-ui', { public: true });
    harbor.state.addArtifact('made-in-ui', 'tool', fakeDigest('tool'), ['1'], new Date(T0));
    const vault = harbor.state.findProject('vault', true);
    if (vault) vault.metadata.public = 'true';
    harbor.state.deleteArtifact('apps', 'web', fakeDigest('web-2'));
    const fresh = harbor.state.findProject('fresh', true);
    if (fresh) harbor.state.deleteProject(fresh.projectId);
    await sync();

    // Hosted: the service governs visibility, so Harbor's flip is reverted rather than followed.
    expect(await spaces()).toEqual({ apps: 'public', library: 'public', vault: 'private', 'made-in-ui': 'public' });
    expect(harbor.state.findProject('vault', true)?.metadata.public).toBe('false');
    await eventually(async () => {
      const offered = await selector('shop');
      return offered[`${reg.host}/apps/web`]?.tag === 'v1' && `${reg.host}/made-in-ui/tool` in offered && !(`${reg.host}/vault/db` in offered);
    }, 2000);
    expect(policiesOf('made-in-ui')).toHaveLength(1);
  });

  it('records Harbor as unreachable when it is down, changes nothing, and healthy again once it answers', async () => {
    const { lastSuccessAt } = await view();
    const before = await selector('shop');
    harbor.setDown(true);
    try {
      await sync();
      const down = await view();
      expect(down).toMatchObject({ status: 'unreachable', lastSuccessAt });
      expect(down.statusMessage).toMatch(/503/);
      expect(await selector('shop')).toEqual(before);
      expect(await spaces()).toEqual({ apps: 'public', library: 'public', vault: 'private', 'made-in-ui': 'public' });
    } finally {
      harbor.setDown(false);
    }
    await sync();
    const up = await view();
    expect(up.status).toBe('healthy');
    expect(up.statusMessage).toBeUndefined();
    expect(Date.parse(up.lastSuccessAt ?? '')).toBeGreaterThan(Date.parse(lastSuccessAt ?? ''));
  });
});
