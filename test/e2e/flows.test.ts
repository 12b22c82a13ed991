import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { harborAuthorization, harborEvent, projectOf } from '../helpers/harbor-events.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const Created = z.object({ id: z.string(), host: z.string(), status: z.string(), webhook: z.object({ url: z.string(), secret: z.string() }) });
const Page = z.object({ items: z.array(z.object({ image: z.string(), grantedBy: z.array(z.string()), visibility: z.string() })), nextCursor: z.string().nullable() });

describe('the two admin flows over HTTP, on the embedded runtime', () => {
  let svc: Service;
  let harbor: FakeHarbor;
  let reg: z.infer<typeof Created>;
  let readerA: string;
  let readerB: string;

  const images = async (ns: string, token = svc.adminToken) => {
    const res = await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/images`, undefined, token);
    return Page.parse(res.body).items.map((i) => i.image);
  };
  const webhook = (body: unknown) => svc.call('POST', `/webhooks/harbor/${reg.id}`, body, null, { authorization: harborAuthorization(reg.webhook.secret, projectOf(body)) });
  const push = (project: string, repo: string, tag: string, occurAt: number, repoType: 'public' | 'private' = 'private') =>
    webhook(harborEvent('PUSH_ARTIFACT', { host: reg.host, project, repo, tag, digest: fakeDigest(`${project}/${repo}:${tag}`), occurAt, repoType }));

  beforeAll(async () => {
    harbor = await startFakeHarbor();
    svc = await startService();
    const res = await svc.call('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials });
    expect(res.status).toBe(201);
    reg = Created.parse(res.body);
    for (const w of ['team-a', 'team-b']) expect((await svc.call('PUT', `/api/v1/workspaces/${w}`, { displayName: w })).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/shop', { workspaceId: 'team-a' })).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/blog', { workspaceId: 'team-b' })).status).toBe(201);
    readerA = svc.token({ workspaces: ['team-a'] });
    readerB = svc.token({ workspaces: ['team-b'] });
  });
  afterAll(async () => {
    await svc?.stop();
    await harbor?.close();
  });

  it('registers a Harbor registry as healthy and hands out its webhook once, never its credentials', async () => {
    expect(reg.status).toBe('healthy');
    expect(reg.webhook.url).toMatch(new RegExp(`/webhooks/harbor/${reg.id}$`));
    const got = await svc.call('GET', `/api/v1/registries/${reg.id}`);
    expect(got.text).not.toContain(harbor.credentials.password);
    expect(got.text).not.toContain(reg.webhook.secret);
    expect(got.body).not.toHaveProperty('webhook');
  });

  it('flow 1: a public space, a push, and every namespace offers the image', async () => {
    const created = await svc.call('POST', `/api/v1/registries/${reg.id}/spaces`, { name: 'shared', visibility: 'public' });
    expect(created.status).toBe(201);
    expect(harbor.state.findProject('shared', true)?.metadata.public).toBe('true');
    expect((await push('shared', 'nginx', '1.27', 1_760_000_000, 'public')).status).toBe(200);
    for (const ns of ['shop', 'blog', 'unbound']) await eventually(async () => (await images(ns)).includes(`${reg.host}/shared/nginx`));
  });

  it('flow 2: a private space is offered only to the namespaces of the workspace it is bound to', async () => {
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/spaces`, { name: 'payments', visibility: 'private' })).status).toBe(201);
    expect(harbor.state.findProject('payments', true)?.metadata.public).toBe('false');
    expect((await push('payments', 'api', 'v1', 1_760_000_001)).status).toBe(200);
    const image = `${reg.host}/payments/api`;
    await new Promise((r) => setTimeout(r, 200));
    expect(await images('shop')).not.toContain(image);

    expect((await svc.call('PUT', `/api/v1/registries/${reg.id}/spaces/payments/bindings/team-a`)).status).toBe(204);
    const ms = await eventually(async () => (await images('shop', readerA)).includes(image));
    expect(ms).toBeLessThan(1000);
    expect(await images('blog', readerB)).not.toContain(image);
    expect(await images('unbound')).not.toContain(image);
    const tags = await svc.call('GET', `/api/v1/clusters/prod/namespaces/shop/tags?image=${encodeURIComponent(image)}`, undefined, readerA);
    expect(tags.body).toMatchObject({ items: [{ tag: 'v1' }] });
    const hidden = await svc.call('GET', `/api/v1/clusters/prod/namespaces/blog/tags?image=${encodeURIComponent(image)}`, undefined, readerB);
    expect(hidden.status).toBe(404);
    expect(hidden.text).not.toContain('payments/api"');
  });

  it('follows a namespace move, an unbind and a visibility flip within a second', async () => {
    const image = `${reg.host}/payments/api`;
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/blog', { workspaceId: 'team-a' })).status).toBe(200);
    await eventually(async () => (await images('blog')).includes(image));
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/blog', { workspaceId: 'team-b' })).status).toBe(200);
    await eventually(async () => !(await images('blog')).includes(image));

    expect((await svc.call('PATCH', `/api/v1/registries/${reg.id}/spaces/payments`, { visibility: 'public' })).status).toBe(200);
    expect(harbor.state.findProject('payments', true)?.metadata.public).toBe('true');
    await eventually(async () => (await images('blog')).includes(image));
    expect((await svc.call('PATCH', `/api/v1/registries/${reg.id}/spaces/payments`, { visibility: 'private' })).status).toBe(200);
    await eventually(async () => !(await images('blog')).includes(image));

    expect((await svc.call('DELETE', `/api/v1/registries/${reg.id}/spaces/payments/bindings/team-a`)).status).toBe(204);
    await eventually(async () => !(await images('shop')).includes(image));
  });

  it('pages the selector with an opaque cursor and filters by substring', async () => {
    for (let i = 0; i < 7; i++) await push('shared', `svc-${i}`, 'v1', 1_760_000_100 + i, 'public');
    await eventually(async () => (await images('shop')).length >= 8);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = Page.parse((await svc.call('GET', `/api/v1/clusters/prod/namespaces/shop/images${q}`)).body);
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((i) => i.image));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(await images('shop'));
    const filtered = Page.parse((await svc.call('GET', '/api/v1/clusters/prod/namespaces/shop/images?q=SVC-3')).body);
    expect(filtered.items.map((i) => i.image)).toEqual([`${reg.host}/shared/svc-3`]);
  });

  it('answers 502 with Harbor’s reason when Harbor refuses, 503 when it is down, and stores nothing', async () => {
    harbor.state.addProject('taken-elsewhere', { public: false });
    harbor.state.addArtifact('shared', 'nginx', fakeDigest('x'), ['x']);
    const refused = await svc.call('DELETE', `/api/v1/registries/${reg.id}/spaces/shared`);
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({ error: 'UPSTREAM_REFUSED' });
    expect((await svc.call('GET', `/api/v1/registries/${reg.id}/spaces/shared`)).status).toBe(200);

    harbor.setDown(true);
    const down = await svc.call('POST', `/api/v1/registries/${reg.id}/spaces`, { name: 'later', visibility: 'public' });
    harbor.setDown(false);
    expect(down.status).toBe(503);
    expect((await svc.call('GET', `/api/v1/registries/${reg.id}/spaces/later`)).status).toBe(404);
  });
});
