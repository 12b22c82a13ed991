import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { signJwt } from '../../shared/local/jwt.ts';
import { rawFixture } from '../helpers/fixtures.ts';
import { eventually, startService, TEST_JWT_SECRET, type Service } from '../helpers/service.ts';

const Created = z.object({ id: z.string(), host: z.string(), status: z.string(), webhook: z.object({ url: z.string(), secret: z.string() }) });
const Images = z.object({ items: z.array(z.object({ image: z.string() })) });

describe('bad input, bad tokens and restarts over HTTP', () => {
  let svc: Service;
  let reg: z.infer<typeof Created>;
  const pushBody = rawFixture('distribution/manifest-push.json');
  const images = async () => Images.parse((await svc.call('GET', '/api/v1/clusters/c/namespaces/n/images')).body).items.map((i) => i.image);

  beforeAll(async () => {
    svc = await startService();
    // Nothing listens on port 9: registered anyway, as unreachable.
    const res = await svc.call('POST', '/api/v1/registries', { name: 'dr', kind: 'docker-registry', mode: 'integrated', url: 'http://127.0.0.1:9' });
    expect(res.status).toBe(201);
    reg = Created.parse(res.body);
  });
  afterAll(() => svc?.stop());

  it('registers a registry that does not answer as unreachable', () => {
    expect(reg.status).toBe('unreachable');
  });

  it('refuses requests without a valid token: none, forged, expired, alg none', async () => {
    expect((await svc.call('GET', '/api/v1/registries', undefined, null)).status).toBe(401);
    expect((await svc.call('GET', '/api/v1/registries', undefined, signJwt({ sub: 'x', roles: ['platform-admin'] }, 'not-the-secret-at-all-000000'))).status).toBe(401);
    expect((await svc.call('GET', '/api/v1/registries', undefined, signJwt({ sub: 'x', roles: ['platform-admin'] }, TEST_JWT_SECRET, -10))).status).toBe(401);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', roles: ['platform-admin'], exp: 9e9 })).toString('base64url')}.`;
    expect((await svc.call('GET', '/api/v1/registries', undefined, none)).status).toBe(401);
  });

  it('refuses admin routes to readers, and namespaces outside a reader’s workspaces', async () => {
    expect((await svc.call('PUT', '/api/v1/workspaces/w1', {})).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/c/namespaces/mine', { workspaceId: 'w1' })).status).toBe(201);
    const reader = svc.token({ workspaces: ['w1'] });
    expect((await svc.call('GET', '/api/v1/registries', undefined, reader)).status).toBe(403);
    expect((await svc.call('GET', '/api/v1/clusters/c/namespaces/mine/images', undefined, reader)).status).toBe(200);
    expect((await svc.call('GET', '/api/v1/clusters/c/namespaces/other/images', undefined, reader)).status).toBe(403);
    expect((await svc.call('GET', '/api/v1/clusters/c/namespaces/mine/images', undefined, svc.token({ workspaces: ['w2'] }))).status).toBe(403);
  });

  it('refuses a webhook with a wrong secret or an unknown registry id, and stores nothing', async () => {
    const wrong = await svc.call('POST', `/webhooks/distribution/${reg.id}`, pushBody, null, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const none = await svc.call('POST', `/webhooks/distribution/${reg.id}`, pushBody, null);
    expect(none.status).toBe(401);
    const unknown = await svc.call('POST', '/webhooks/distribution/reg-000000000000', pushBody, null, { authorization: `Bearer ${reg.webhook.secret}` });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    const wrongKind = await svc.call('POST', `/webhooks/harbor/${reg.id}`, pushBody, null, { authorization: `Bearer ${reg.webhook.secret}` });
    expect(wrongKind.status).toBe(401);
    expect((await svc.call('GET', `/api/v1/registries/${reg.id}/spaces`)).body).toEqual({ items: [] });
  });

  it('stores a real registry notification, exactly as it was sent, and ignores its duplicate', async () => {
    const auth = { authorization: `Bearer ${reg.webhook.secret}`, 'content-type': 'application/vnd.docker.distribution.events.v1+json' };
    const first = await svc.call('POST', `/webhooks/distribution/${reg.id}`, pushBody, null, auth);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ applied: 1 });
    const again = await svc.call('POST', `/webhooks/distribution/${reg.id}`, pushBody, null, auth);
    expect(again.body).toMatchObject({ applied: 0 });
    await eventually(async () => (await images()).includes(`${reg.host}/space/app`));
    expect((await svc.call('GET', `/api/v1/registries/${reg.id}/spaces/space`)).body).toMatchObject({ visibility: 'public' });
  });

  it('answers bad input with a 4xx and a clear message', async () => {
    const malformed = await svc.call('POST', '/api/v1/registries', '{"name":', undefined);
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: 'BAD_REQUEST', message: 'body is not valid JSON' });
    const invalid = await svc.call('POST', '/api/v1/registries', { name: 'x', kind: 'quay', mode: 'hosted', url: 'ftp://x' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ details: { issues: expect.arrayContaining([expect.objectContaining({ path: 'kind' }), expect.objectContaining({ path: 'url' })]) } });
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/spaces`, { name: 'Bad_Name', visibility: 'public' })).status).toBe(400);
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/spaces`, { name: 'fine', visibility: 'private' })).body).toMatchObject({
      error: 'BAD_REQUEST',
      message: expect.stringContaining('always public'),
    });
    expect((await svc.call('PATCH', `/api/v1/registries/${reg.id}/spaces/space`, { visibility: 'private' })).status).toBe(400);
    expect((await svc.call('GET', '/api/v1/clusters/c/namespaces/n/images?limit=500')).status).toBe(400);
    expect((await svc.call('GET', '/api/v1/clusters/c/namespaces/n/images?cursor=garbage')).status).toBe(400);
    expect((await svc.call('POST', `/webhooks/distribution/${reg.id}`, '{"events": "no"}', null, { authorization: `Bearer ${reg.webhook.secret}` })).status).toBe(400);
    expect((await svc.call('POST', '/api/v1/registries', 'x'.repeat(1_100_000))).status).toBe(413);
  });

  it('answers unknown ids with 404, and binding to a missing workspace with 404', async () => {
    expect((await svc.call('GET', '/api/v1/registries/reg-doesnotexist')).status).toBe(404);
    expect((await svc.call('GET', `/api/v1/registries/${reg.id}/spaces/nope`)).status).toBe(404);
    expect((await svc.call('GET', '/api/v1/workspaces/nope')).status).toBe(404);
    expect((await svc.call('GET', '/api/v1/clusters/c/namespaces/nope')).status).toBe(404);
    expect((await svc.call('PUT', `/api/v1/registries/${reg.id}/spaces/space/bindings/ghost`)).status).toBe(404);
    expect((await svc.call('PUT', '/api/v1/clusters/c/namespaces/x', { workspaceId: 'ghost' })).status).toBe(404);
    expect((await svc.call('GET', '/api/v1/nothing-here')).status).toBe(404);
  });

  it('refuses to delete a workspace that is still in use, and says why', async () => {
    const res = await svc.call('DELETE', '/api/v1/workspaces/w1');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ details: { namespaces: ['c/mine'] } });
  });

  it('keeps everything across a restart', async () => {
    await svc.restart();
    expect((await svc.call('GET', `/api/v1/registries/${reg.id}`)).body).toMatchObject({ id: reg.id, kind: 'docker-registry' });
    expect(await images()).toContain(`${reg.host}/space/app`);
    expect((await svc.call('GET', '/api/v1/clusters/c/namespaces/mine')).body).toMatchObject({ workspaceId: 'w1' });
    const auth = { authorization: `Bearer ${reg.webhook.secret}` };
    expect((await svc.call('POST', `/webhooks/distribution/${reg.id}`, rawFixture('distribution/tag-delete.json'), null, auth)).status).toBe(200);
  });
});
