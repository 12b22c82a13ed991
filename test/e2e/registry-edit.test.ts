import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { hasDockerRegistry, registrationOf, startDockerRegistry, type DockerRegistry } from '../helpers/docker-registry.ts';
import { writeOciImages, type OciImage } from '../helpers/oci.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const Created = z.object({ id: z.string(), host: z.string() });
const View = z.object({ id: z.string(), host: z.string(), status: z.string(), statusCheckedAt: z.string(), lastSuccessAt: z.string().optional() });
const Page = z.object({ items: z.array(z.object({ image: z.string(), tagCount: z.number() })) });
const Items = z.object({ items: z.array(z.looseObject({})) });
const Problem = z.object({ error: z.string(), message: z.string(), details: z.object({ issues: z.array(z.object({ path: z.string(), message: z.string() })) }) });

describe('a real Docker Registry whose admin password is rotated, then edited in with PATCH', () => {
  const work = mkdtempSync(join(tmpdir(), 'registry-edit-e2e-'));
  let svc: Service;
  let registry: DockerRegistry;
  let reg: z.infer<typeof Created>;
  let images: OciImage[];

  const view = async () => View.parse((await svc.call('GET', `/api/v1/registries/${reg.id}`)).body);
  /** Asks for a reconcile and waits until one that started after the call has recorded its outcome. */
  const sync = async () => {
    const before = (await view()).statusCheckedAt;
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/sync`)).status).toBe(202);
    await eventually(async () => (await view()).statusCheckedAt > before, 15_000);
    return view();
  };
  const offered = async () => Page.parse((await svc.call('GET', '/api/v1/clusters/prod/namespaces/shop/images')).body).items;
  const spacesAndBindings = async () => ({
    spaces: Items.parse((await svc.call('GET', `/api/v1/registries/${reg.id}/spaces`)).body).items,
    bindings: Items.parse((await svc.call('GET', `/api/v1/registries/${reg.id}/spaces/team/bindings`)).body).items,
  });

  beforeAll(async () => {
    if (!hasDockerRegistry()) throw new Error('needs Debian packages docker-registry, skopeo and apache2-utils (see .ci/run)');
    [svc, registry] = await Promise.all([startService(), startDockerRegistry()]);
    images = await writeOciImages(join(work, 'oci'), ['one', 'two'], 'registry-edit-e2e');
    await registry.push(images[0]?.ref ?? '', 'team/app:1.0');
    const res = await svc.call('POST', '/api/v1/registries', registrationOf(registry));
    expect(res.status, res.text).toBe(201);
    reg = Created.parse(res.body);
    expect((await svc.call('PUT', '/api/v1/workspaces/team-a', {})).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/shop', { workspaceId: 'team-a' })).status).toBe(201);
    expect((await sync()).status).toBe('healthy');
    expect((await svc.call('PUT', `/api/v1/registries/${reg.id}/spaces/team/bindings/team-a`)).status).toBe(204);
    await eventually(async () => (await offered()).length === 1, 5000);
  });

  afterAll(async () => {
    await svc?.stop();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses the old password at the next sync, refuses a wrong new one and changes nothing, takes the right one and syncs again', async () => {
    const kept = await spacesAndBindings();
    expect(kept.bindings).toMatchObject([{ workspaceId: 'team-a' }]);
    const oldPassword = registry.password;
    const newPassword = await registry.changePassword();
    expect(newPassword).not.toBe(oldPassword);

    const refused = await sync();
    expect(refused.status).toBe('unauthorized');

    const wrong = await svc.call('PATCH', `/api/v1/registries/${reg.id}`, { name: 'renamed', credentials: { username: registry.username, password: oldPassword } });
    expect(wrong.status, wrong.text).toBe(400);
    expect(Problem.parse(wrong.body).details.issues).toMatchObject([{ path: 'credentials', message: expect.stringMatching(/^the registry refused them: .*401/) }]);
    expect(await view()).toEqual(refused);

    const right = await svc.call('PATCH', `/api/v1/registries/${reg.id}`, { credentials: { username: registry.username, password: newPassword } });
    expect(right.status, right.text).toBe(200);
    expect(View.parse(right.body)).toMatchObject({ id: reg.id, host: reg.host, status: 'healthy' });
    expect(right.text).not.toContain(newPassword);
    expect(await spacesAndBindings()).toEqual(kept);
    expect((await offered()).map((i) => i.image)).toEqual([`${reg.host}/team/app`]);

    await registry.push(images[1]?.ref ?? '', 'team/app:2.0');
    const again = await sync();
    expect(again.status).toBe('healthy');
    expect(again.lastSuccessAt && refused.lastSuccessAt && again.lastSuccessAt > refused.lastSuccessAt).toBe(true);
    await eventually(async () => (await offered())[0]?.tagCount === 2, 5000);
  });
});
