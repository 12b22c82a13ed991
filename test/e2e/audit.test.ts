import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { harborAuthorization, harborEvent } from '../helpers/harbor-events.ts';
import { startService, type Service } from '../helpers/service.ts';

const Created = z.object({ id: z.string(), host: z.string(), webhook: z.object({ secret: z.string() }) });
const Entry = z.object({ at: z.string(), actor: z.string(), operator: z.string().optional(), action: z.string(), target: z.record(z.string(), z.string()), change: z.unknown().optional(), requestId: z.string(), workspaces: z.array(z.string()), expiresAt: z.number() });
const Page = z.object({ items: z.array(Entry), nextCursor: z.string().nullable() });

describe('the audit trail over HTTP, on the embedded runtime', () => {
  let svc: Service;
  let harbor: FakeHarbor;
  let reg: z.infer<typeof Created>;

  const audit = async (query = '', token?: string) => {
    const res = await svc.call('GET', `/api/v1/audit${query}`, undefined, token);
    expect(res.status).toBe(200);
    return Page.parse(res.body);
  };

  beforeAll(async () => {
    harbor = await startFakeHarbor();
    // A short TTL, read from the environment as `npm start` reads it.
    svc = await startService({ env: { AUDIT_TTL_DAYS: '2' } });
    const created = await svc.call('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials });
    expect(created.status).toBe(201);
    reg = Created.parse(created.body);
    const steps: [string, string, unknown?][] = [
      ['PUT', '/api/v1/workspaces/team-a', { displayName: 'Team A' }],
      ['POST', `/api/v1/registries/${reg.id}/spaces`, { name: 'payments', visibility: 'private' }],
      ['PATCH', `/api/v1/registries/${reg.id}/spaces/payments`, { visibility: 'public' }],
      ['PUT', `/api/v1/registries/${reg.id}/spaces/payments/bindings/team-a`],
      ['PUT', '/api/v1/clusters/prod/namespaces/shop', { workspaceId: 'team-a' }],
    ];
    for (const [method, path, body] of steps) expect((await svc.call(method, path, body)).status).toBeLessThan(300);
    const push = harborEvent('PUSH_ARTIFACT', { host: reg.host, project: 'payments', repo: 'api', tag: 'v1', digest: fakeDigest('api:v1'), occurAt: Math.floor(Date.now() / 1000) });
    const delivered = await svc.call('POST', `/webhooks/harbor/${reg.id}`, push, null, { authorization: harborAuthorization(reg.webhook.secret, 'payments') });
    expect(delivered.status).toBe(200);
  });
  afterAll(async () => {
    await svc?.stop();
    await harbor?.close();
  });

  it('tells a platform admin who did what, newest first: the token’s sub, and the registry with its operator', async () => {
    const { items } = await audit(`?actor=tester`);
    expect(items.map((e) => e.action)).toEqual(['NamespaceBound', 'SpaceBound', 'SpaceVisibilityChanged', 'SpaceCreated', 'WorkspaceCreated', 'RegistryConnected']);
    expect(items[2]).toMatchObject({ target: { registryId: reg.id, space: 'payments' }, change: { field: 'visibility', before: 'private', after: 'public' } });
    for (const e of items) expect(e.expiresAt).toBe(Math.floor(Date.parse(e.at) / 1000) + 2 * 86_400);
    expect((await audit(`?actor=registry:${reg.id}`)).items).toMatchObject([{ action: 'TagPushed', operator: 'admin', target: { repository: 'payments/api', tag: 'v1' } }]);
    const paged = await audit(`?actor=tester&limit=4`);
    expect(paged.items).toHaveLength(4);
    const rest = await audit(`?actor=tester&limit=4&cursor=${encodeURIComponent(paged.nextCursor ?? '')}`);
    expect([...paged.items, ...rest.items].map((e) => e.action)).toEqual(items.map((e) => e.action));
  });

  it('shows a workspace admin only their workspaces’ entries, and refuses readers and other workspaces', async () => {
    const adminOfA = svc.token({ roles: ['workspace-admin:team-a'] });
    const theirs = await audit('', adminOfA);
    expect(theirs.items.map((e) => e.action)).toEqual(['NamespaceBound', 'SpaceBound', 'WorkspaceCreated']);
    expect((await svc.call('GET', '/api/v1/audit?workspaceId=team-b', undefined, adminOfA)).status).toBe(403);
    expect((await svc.call('GET', '/api/v1/audit', undefined, svc.token({ workspaces: ['team-a'] }))).status).toBe(403);
    expect((await svc.call('GET', '/api/v1/audit', undefined, null)).status).toBe(401);
  });

  it('answers 400 to a cursor it did not give and to a time that is not one', async () => {
    for (const query of ['?cursor=bm90LWEtY3Vyc29y', '?cursor=%7B', '?since=yesterday', '?limit=1000', '?unknown=1']) {
      const res = await svc.call('GET', `/api/v1/audit${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body).toMatchObject({ error: 'BAD_REQUEST' });
    }
  });
});
