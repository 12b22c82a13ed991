import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { rawFixture } from '../helpers/fixtures.ts';
import { harborAuthorization, harborEvent } from '../helpers/harbor-events.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const Created = z.object({ id: z.string(), host: z.string(), webhook: z.object({ url: z.string(), secret: z.string(), authHeader: z.string() }) });
const Spaces = z.object({ items: z.array(z.object({ name: z.string(), visibility: z.string(), visibilityUnconfirmed: z.boolean().optional() })) });
const Page = z.object({ items: z.array(z.object({ image: z.string() })) });
const ErrorBody = z.object({ error: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() });
const Health = z.object({ statusCheckedAt: z.string(), clockSkew: z.object({ count: z.number(), lastEventTime: z.number() }).optional() });
const Rotated = z.object({ webhook: z.object({ secret: z.string() }), previousSecretValidUntil: z.string() });

const now = () => Math.floor(Date.now() / 1000);

/**
 * Webhooks as an attacker or a careless registry sends them (issue 8, findings 1-4 and 11): out-of-range times, a
 * payload claiming a project public, a project admin forging another project's deliveries, half-bad envelopes.
 */
describe('webhooks that cannot stop the index, widen a grant or store half a request', () => {
  let svc: Service;
  let harbor: FakeHarbor;
  let hb: z.infer<typeof Created>;
  let dr: z.infer<typeof Created>;

  const harborPost = (body: unknown, authorization: string) => svc.call('POST', `/webhooks/harbor/${hb.id}`, body, null, { authorization });
  const push = (project: string, repo: string, tag: string, occurAt: number, o: { repoType?: 'public' | 'private'; signAs?: string } = {}) =>
    harborPost(
      harborEvent('PUSH_ARTIFACT', { host: hb.host, project, repo, tag, digest: fakeDigest(`${project}/${repo}:${tag}`), occurAt, repoType: o.repoType ?? 'private' }),
      harborAuthorization(hb.webhook.secret, o.signAs ?? project),
    );
  const distribution = (events: unknown[], secret = dr.webhook.secret) =>
    svc.call('POST', `/webhooks/distribution/${dr.id}`, { events }, null, { authorization: `Bearer ${secret}` });
  const drEvent = (repository: string, tag: string, timestamp: string, digest = fakeDigest(`${repository}:${tag}`)) => ({
    id: `${repository}:${tag}:${timestamp}`,
    timestamp,
    action: 'push',
    target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, repository, tag },
  });
  const spaces = async (id: string) =>
    Spaces.parse((await svc.call('GET', `/api/v1/registries/${id}/spaces`)).body).items.map(({ name, visibility, visibilityUnconfirmed }) => ({
      name,
      visibility,
      ...(visibilityUnconfirmed === undefined ? {} : { visibilityUnconfirmed }),
    }));
  const images = async (ns: string) => Page.parse((await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/images?limit=100`)).body).items.map((i) => i.image);
  const health = async (id: string) => Health.parse((await svc.call('GET', `/api/v1/registries/${id}`)).body);
  const sync = async (id: string) => {
    const asked = Date.now();
    expect((await svc.call('POST', `/api/v1/registries/${id}/sync`)).status).toBe(202);
    await eventually(async () => Date.parse((await health(id)).statusCheckedAt) >= asked, 5000);
  };

  beforeAll(async () => {
    harbor = await startFakeHarbor();
    svc = await startService();
    const h = await svc.call('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials });
    hb = Created.parse(h.body);
    // Nothing listens on port 9: registered anyway; its reconciles fail, which changes nothing here.
    dr = Created.parse((await svc.call('POST', '/api/v1/registries', { name: 'dr', kind: 'docker-registry', mode: 'integrated', url: 'http://127.0.0.1:9' })).body);
    expect((await svc.call('PUT', '/api/v1/workspaces/team-a', {})).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/shop', { workspaceId: 'team-a' })).status).toBe(201);
  });
  afterAll(async () => {
    await svc?.stop();
    await harbor?.close();
  });

  it('refuses event times ahead of the clock or before 2000 with 400, stores nothing, and counts the skew', async () => {
    harbor.state.addProject('clock', { public: true });
    expect((await svc.call('POST', `/api/v1/registries/${hb.id}/spaces`, { name: 'clock', visibility: 'public' })).status).toBe(201);
    for (const occurAt of [8_700_000_000_000, 1e13, now() + 3600, 946_684_799]) {
      const res = await push('clock', 'app', 'v1', occurAt);
      expect(res.status).toBe(400);
      expect(ErrorBody.parse(res.body)).toMatchObject({ error: 'BAD_REQUEST', details: { index: 0, field: 'eventTime', at: 'event_data.resources[0]' } });
    }
    for (const timestamp of ['9999-12-31T23:59:59Z', new Date((now() + 3600) * 1000).toISOString(), '1999-12-31T23:59:59Z']) {
      const res = await distribution([drEvent('ahead/app', 'v1', timestamp)]);
      expect(res.status).toBe(400);
      expect(ErrorBody.parse(res.body).message).toMatch(/^events\[0\]: event time/);
    }
    expect(await spaces(dr.id)).toEqual([]);
    expect((await health(hb.id)).clockSkew).toMatchObject({ count: 4 });
    expect((await health(dr.id)).clockSkew).toMatchObject({ count: 3 });

    // A time within the skew is taken, and the index follows a later make-private at once.
    expect((await push('clock', 'app', 'v1', now() - 5)).status).toBe(200);
    await eventually(async () => (await images('shop')).includes(`${hb.host}/clock/app`));
    expect((await svc.call('PATCH', `/api/v1/registries/${hb.id}/spaces/clock`, { visibility: 'private' })).status).toBe(200);
    await eventually(async () => !(await images('shop')).includes(`${hb.host}/clock/app`));
  });

  it('refuses an envelope with one bad item whole, naming its index and field, and creates nothing', async () => {
    const good = drEvent('half/app', 'v1', new Date().toISOString());
    for (const [bad, field] of [
      [drEvent('half/app', 'bad tag', new Date().toISOString()), 'tag'],
      [drEvent('half/app', 'v2', new Date().toISOString(), 'notadigest'), 'digest'],
      [drEvent('Half/App', 'v2', new Date().toISOString()), 'path'],
      [drEvent('half/app', 'v2', 'not a time'), 'eventTime'],
    ] as const) {
      const res = await distribution([good, bad]);
      expect(res.status).toBe(400);
      expect(ErrorBody.parse(res.body).details).toMatchObject({ index: 1, at: 'events[1]', field });
    }
    expect(await spaces(dr.id)).toEqual([]);
    const badHarbor = harborEvent('PUSH_ARTIFACT', { host: hb.host, project: 'half', repo: 'app', tag: 'v1', digest: fakeDigest('h'), occurAt: now() });
    badHarbor.event_data.resources.push({ digest: 'notadigest', tag: 'v2', resource_url: `${hb.host}/half/app:v2` });
    const refused = await harborPost(badHarbor, harborAuthorization(hb.webhook.secret, 'half'));
    expect(refused.status).toBe(400);
    expect(ErrorBody.parse(refused.body).details).toMatchObject({ index: 1, field: 'digest' });
    expect((await spaces(hb.id)).map((s) => s.name)).not.toContain('half');
  });

  it('creates a space first seen in a webhook private, whatever the payload claims, and learns the truth from Harbor', async () => {
    // Harbor's project is private; the payload says public.
    // Harbor holds what it notifies about (a reconcile would otherwise rightly delete it).
    harbor.state.addProject('hidden', { public: false });
    harbor.state.addArtifact('hidden', 'db', fakeDigest('hidden/db:v1'), ['v1']);
    expect((await push('hidden', 'db', 'v1', now(), { repoType: 'public' })).status).toBe(200);
    expect(await spaces(hb.id)).toContainEqual({ name: 'hidden', visibility: 'private', visibilityUnconfirmed: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(await images('shop')).not.toContain(`${hb.host}/hidden/db`);
    // The reconcile the new project asked for confirms it private; the hosted Harbor's project is never made public.
    await eventually(async () => (await spaces(hb.id)).some((s) => s.name === 'hidden' && !s.visibilityUnconfirmed), 5000);
    await sync(hb.id);
    expect(harbor.state.findProject('hidden', true)?.metadata.public).toBe('false');
    expect((await spaces(hb.id)).find((s) => s.name === 'hidden')?.visibility).toBe('private');

    // A project Harbor has public is learned as public: Harbor's API decides, not the payload.
    harbor.state.addProject('open', { public: true });
    harbor.state.addArtifact('open', 'web', fakeDigest('open/web:v1'), ['v1']);
    expect((await push('open', 'web', 'v1', now(), { repoType: 'private' })).status).toBe(200);
    await eventually(async () => (await images('shop')).includes(`${hb.host}/open/web`), 5000);
  });

  it("takes a Harbor delivery only for the project whose secret it carries: another project's secret is a wrong secret", async () => {
    harbor.state.addProject('victim', { public: false });
    harbor.state.addProject('attacker', { public: false });
    expect((await push('attacker', 'x', 'v1', now())).status).toBe(200);
    const forged = await push('victim', 'db', 'v1', now(), { signAs: 'attacker' });
    const wrong = await push('victim', 'db', 'v1', now(), { signAs: 'nobody' });
    const registryWide = await harborPost(harborEvent('PUSH_ARTIFACT', { host: hb.host, project: 'victim', repo: 'db', tag: 'v1', digest: fakeDigest('v'), occurAt: now() }), `Bearer ${hb.webhook.secret}`);
    // A one-segment name would land in space `library`: signed for `attacker`, it is refused like a wrong secret.
    const oneSegment = harborEvent('PUSH_ARTIFACT', { host: hb.host, project: 'attacker', repo: 'x', tag: 'v1', digest: fakeDigest('o'), occurAt: now() });
    oneSegment.event_data.repository.repo_full_name = 'attacker';
    const elsewhere = await harborPost(oneSegment, harborAuthorization(hb.webhook.secret, 'attacker'));
    expect(elsewhere.status).toBe(400);
    await new Promise((r) => setTimeout(r, 200));
    expect(await images('shop')).not.toContain(`${hb.host}/attacker`);
    for (const res of [forged, wrong, registryWide]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'UNAUTHORIZED', message: 'webhook secret is wrong or the registry is unknown' });
    }
    // Nothing of the forged pushes was stored: even bound to team-a (the reconcile imports Harbor's project), victim offers nothing.
    await eventually(async () => (await spaces(hb.id)).some((s) => s.name === 'victim'), 5000);
    expect((await svc.call('PUT', `/api/v1/registries/${hb.id}/spaces/victim/bindings/team-a`)).status).toBe(204);
    expect((await images('shop')).filter((i) => i.includes('/victim/'))).toEqual([]);
  });

  it('answers a malformed registry id on the webhook routes like a wrong secret (401), never 400', async () => {
    for (const id of ['r'.repeat(65), 'reg-%20', 'x']) {
      const res = await svc.call('POST', `/webhooks/distribution/${id}`, rawFixture('distribution/manifest-push.json'), null, { authorization: `Bearer ${dr.webhook.secret}` });
      expect(res.status).toBe(401);
    }
  });

  it('never shows the webhook secret after registration; a rotation shows the new one once and keeps the old one for the grace period', async () => {
    const config = await svc.call('GET', `/api/v1/registries/${dr.id}/webhook-config`);
    expect(config.status).toBe(200);
    expect(config.text).not.toContain(dr.webhook.secret);
    const rotated = Rotated.parse((await svc.call('POST', `/api/v1/registries/${dr.id}/webhook-secret`)).body);
    expect(rotated.webhook.secret).not.toBe(dr.webhook.secret);
    expect(Date.parse(rotated.previousSecretValidUntil) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    const at = new Date().toISOString();
    expect((await distribution([drEvent('rot/app', 'v1', at)], rotated.webhook.secret)).status).toBe(200);
    expect((await distribution([drEvent('rot/app', 'v2', at)], dr.webhook.secret)).status).toBe(200);
    expect((await distribution([drEvent('rot/app', 'v3', at)], 'not-it')).status).toBe(401);
    expect((await svc.call('GET', `/api/v1/registries/${dr.id}/webhook-config`)).text).not.toContain(rotated.webhook.secret);

    // Harbor: the policies are re-registered with the new project secrets at once.
    const before = harbor.state.policiesOf(harbor.state.findProject('clock', true)?.projectId ?? -1)[0]?.targets[0]?.auth_header;
    const hr = Rotated.parse((await svc.call('POST', `/api/v1/registries/${hb.id}/webhook-secret`)).body);
    const after = harbor.state.policiesOf(harbor.state.findProject('clock', true)?.projectId ?? -1)[0]?.targets[0]?.auth_header;
    expect(before).toBe(harborAuthorization(hb.webhook.secret, 'clock'));
    expect(after).toBe(harborAuthorization(hr.webhook.secret, 'clock'));
    expect((await push('clock', 'app', 'v9', now())).status).toBe(200);

    // A leaked secret is cut off at once with no grace.
    const cut = Rotated.parse((await svc.call('POST', `/api/v1/registries/${dr.id}/webhook-secret`, { graceSeconds: 0 })).body);
    expect((await distribution([drEvent('rot/app', 'v4', new Date().toISOString())], rotated.webhook.secret)).status).toBe(401);
    expect((await distribution([drEvent('rot/app', 'v4', new Date().toISOString())], cut.webhook.secret)).status).toBe(200);
    expect((await svc.call('POST', `/api/v1/registries/${dr.id}/webhook-secret`, { graceSeconds: -1 })).status).toBe(400);
  });
});
