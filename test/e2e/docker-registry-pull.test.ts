import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { hasDockerRegistry, startDockerRegistry, type DockerRegistry, registrationOf } from '../helpers/docker-registry.ts';
import { writeOciImages } from '../helpers/oci.ts';
import { startService, type Service } from '../helpers/service.ts';

const run = promisify(execFile);

const Created = z.object({ id: z.string(), host: z.string() });
const Secret = z.object({ type: z.literal('kubernetes.io/dockerconfigjson'), data: z.object({ '.dockerconfigjson': z.string() }) });
const DockerConfig = z.strictObject({ auths: z.record(z.string(), z.object({ username: z.string(), password: z.string(), auth: z.string() })) });
const Inspect = z.object({ Digest: z.string() });

describe('a real Docker Registry pulled with the pull secret the service hands out', () => {
  const work = mkdtempSync(join(tmpdir(), 'dr-pull-e2e-'));
  let svc: Service;
  let registry: DockerRegistry;
  let reg: z.infer<typeof Created>;
  let digest: string;

  /** The namespace's `.dockerconfigjson`, written to a file as kubelet would hand it to the runtime. */
  const authFile = async (name: string) => {
    const res = await svc.call('GET', '/api/v1/clusters/prod/namespaces/shop/pull-secret', undefined, svc.token({ workspaces: ['team-a'] }));
    expect(res.status, res.text).toBe(200);
    const config = Buffer.from(Secret.parse(res.body).data['.dockerconfigjson'], 'base64').toString('utf8');
    const file = join(work, `${name}.json`);
    await writeFile(file, config, { mode: 0o600 });
    return { file, auths: DockerConfig.parse(JSON.parse(config)).auths };
  };

  /** skopeo with only `file` to find credentials in: no ~/.docker, no $XDG_RUNTIME_DIR/containers/auth.json. */
  const inspect = async (file: string) => {
    const home = mkdtempSync(join(work, 'home-'));
    const env = { PATH: process.env.PATH ?? '', HOME: home, XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: home };
    try {
      const { stdout } = await run('skopeo', ['--insecure-policy', 'inspect', '--tls-verify=false', '--authfile', file, `docker://${registry.host}/team/app:1.0`], { env, timeout: 30_000 });
      return { code: 0, stdout, stderr: '' };
    } catch (error) {
      return z.object({ code: z.number(), stdout: z.string(), stderr: z.string() }).parse(error);
    }
  };

  beforeAll(async () => {
    if (!hasDockerRegistry()) throw new Error('needs Debian packages docker-registry, skopeo and apache2-utils (see .ci/run)');
    [svc, registry] = await Promise.all([startService(), startDockerRegistry()]);
    const [image] = await writeOciImages(join(work, 'oci'), ['app'], 'dr-pull-e2e');
    if (!image) throw new Error('no image written');
    digest = (await registry.push(image.ref, 'team/app:1.0')).digest;
    const res = await svc.call('POST', '/api/v1/registries', registrationOf(registry));
    expect(res.status, res.text).toBe(201);
    reg = Created.parse(res.body);
    expect((await svc.call('PUT', '/api/v1/workspaces/team-a', {})).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/shop', { workspaceId: 'team-a' })).status).toBe(201);
  });

  afterAll(async () => {
    await svc?.stop();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('fails to pull (401) with a pull secret fetched before the pull credentials were set, and pulls with one fetched after', async () => {
    const before = await authFile('before');
    expect(before.auths).toEqual({});
    const refused = await inspect(before.file);
    // skopeo exits 1 with the registry's 401 error: `reading manifest 1.0 in <host>/team/app: unauthorized: authentication required`.
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/reading manifest 1\.0 in [^:]+:\d+\/team\/app: unauthorized: authentication required/);

    const patched = await svc.call('PATCH', `/api/v1/registries/${reg.id}`, { pullCredentials: registry.reader });
    expect(patched.status, patched.text).toBe(200);
    const after = await authFile('after');
    // The read-only account, never the admin one the service indexes with.
    expect(Object.keys(after.auths)).toEqual([reg.host]);
    expect(after.auths[reg.host]).toMatchObject(registry.reader);
    expect(JSON.stringify(after.auths)).not.toContain(registry.password);
    const pulled = await inspect(after.file);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    expect(Inspect.parse(JSON.parse(pulled.stdout)).Digest).toBe(digest);

    // The old file, still in a cluster, keeps failing: it never held the host.
    expect(await inspect(before.file)).toMatchObject({ code: 1, stderr: expect.stringMatching(/unauthorized: authentication required/) });
  });
});
