import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { hasDockerRegistry, startDockerRegistry, type DockerRegistry, registrationOf } from '../helpers/docker-registry.ts';
import { startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const Created = z.object({ id: z.string(), host: z.string(), webhook: z.object({ url: z.string(), secret: z.string() }) });
const RegistryView = z.object({ id: z.string(), pullCredentialsSetAt: z.string().optional() });
const ErrorBody = z.object({ error: z.string(), message: z.string() });
const Rotation = z.object({ workspaceId: z.string(), requestedAt: z.string(), robots: z.array(z.object({ registryId: z.string(), robot: z.string() })) });
const Entry = z.strictObject({ username: z.string(), password: z.string(), auth: z.string() });
const DockerConfig = z.strictObject({ auths: z.record(z.string(), Entry) });
const Secret = z.strictObject({
  kind: z.literal('Secret'),
  apiVersion: z.literal('v1'),
  metadata: z.strictObject({
    name: z.literal('platform-registry-pull'),
    namespace: z.string(),
    creationTimestamp: z.null(),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()),
  }),
  data: z.strictObject({ '.dockerconfigjson': z.string() }),
  type: z.literal('kubernetes.io/dockerconfigjson'),
});

const ROBOT = 'robot$platform-registry.team-a';

describe('pull secrets over HTTP: a fake Harbor’s robots and a real Docker Registry’s pull credentials', () => {
  let svc: Service;
  let harbor: FakeHarbor;
  let registry: DockerRegistry;
  let hb: z.infer<typeof Created>;
  let dr: z.infer<typeof Created>;
  let readerA: string;
  let readerB: string;
  /** Every robot secret a pull secret ever carried: none may show in the service's log. */
  const robotSecrets = new Set<string>();

  const path = (ns: string) => `/api/v1/clusters/prod/namespaces/${ns}/pull-secret`;

  /** The raw answer (the shared `call` reads every body as JSON; YAML and 304 are not). */
  const fetchSecret = async (ns: string, opts: { token?: string; ifNoneMatch?: string; accept?: string } = {}) => {
    const res = await fetch(`${svc.url}${path(ns)}`, {
      headers: {
        authorization: `Bearer ${opts.token ?? svc.adminToken}`,
        ...(opts.ifNoneMatch ? { 'if-none-match': opts.ifNoneMatch } : {}),
        ...(opts.accept ? { accept: opts.accept } : {}),
      },
    });
    return { status: res.status, etag: res.headers.get('etag') ?? '', vary: res.headers.get('vary') ?? '', contentType: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  /** The Secret a namespace gets, with its `.dockerconfigjson` decoded. */
  const pullSecret = async (ns: string, token?: string) => {
    const res = await fetchSecret(ns, token ? { token } : {});
    expect(res.status, res.text).toBe(200);
    const secret = Secret.parse(JSON.parse(res.text));
    const { auths } = DockerConfig.parse(JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString('utf8')));
    for (const [host, entry] of Object.entries(auths)) if (host === hb.host) robotSecrets.add(entry.password);
    return { ...res, secret, auths };
  };

  const bind = async (space: string, workspace: string) => expect((await svc.call('PUT', `/api/v1/registries/${hb.id}/spaces/${space}/bindings/${workspace}`)).status).toBe(204);
  const unbind = async (space: string, workspace: string) => expect((await svc.call('DELETE', `/api/v1/registries/${hb.id}/spaces/${space}/bindings/${workspace}`)).status).toBe(204);
  const patch = (id: string, body: unknown) => svc.call('PATCH', `/api/v1/registries/${id}`, body);

  beforeAll(async () => {
    if (!hasDockerRegistry()) throw new Error('needs Debian packages docker-registry, skopeo and apache2-utils (see .ci/run)');
    // DEBUG: the log check below must see everything the service would ever write.
    [svc, harbor, registry] = await Promise.all([startService({ env: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } }), startFakeHarbor(), startDockerRegistry()]);
    readerA = svc.token({ workspaces: ['team-a'] });
    readerB = svc.token({ workspaces: ['team-b'] });
    const h = await svc.call('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials });
    expect(h.status, h.text).toBe(201);
    hb = Created.parse(h.body);
    const d = await svc.call('POST', '/api/v1/registries', registrationOf(registry));
    expect(d.status, d.text).toBe(201);
    dr = Created.parse(d.body);
    for (const w of ['team-a', 'team-b']) expect((await svc.call('PUT', `/api/v1/workspaces/${w}`, {})).status).toBe(201);
    for (const [ns, workspaceId] of [['shop', 'team-a'], ['shop-b', 'team-b'], ['blog', null]] as const)
      expect((await svc.call('PUT', `/api/v1/clusters/prod/namespaces/${ns}`, { workspaceId })).status).toBe(201);
    for (const [name, visibility] of [['vault', 'private'], ['ledger', 'private'], ['apps', 'public']] as const)
      expect((await svc.call('POST', `/api/v1/registries/${hb.id}/spaces`, { name, visibility })).status).toBe(201);
  });

  afterAll(async () => {
    await svc?.stop();
    await harbor?.close();
    await registry?.stop();
  });

  it('takes a Docker Registry’s pull credentials by PATCH only when they are not Harbor’s, not the admin’s, and the registry accepts them', async () => {
    const harborRefused = await patch(hb.id, { pullCredentials: { username: 'someone', password: 'secret-1' } });
    expect(harborRefused.status).toBe(400);
    expect(ErrorBody.parse(harborRefused.body).message).toMatch(/robots/);
    const wrong = await patch(dr.id, { pullCredentials: { username: registry.reader.username, password: 'not-the-password' } });
    expect(wrong.status).toBe(400);
    expect(ErrorBody.parse(wrong.body).message).toMatch(/refused/);
    const admin = await patch(dr.id, { pullCredentials: { username: registry.username, password: registry.password } });
    expect(admin.status).toBe(400);
    expect(ErrorBody.parse(admin.body).message).toMatch(/read-only/);
    expect(RegistryView.parse((await svc.call('GET', `/api/v1/registries/${dr.id}`)).body).pullCredentialsSetAt).toBeUndefined();

    const before = await pullSecret('blog');
    expect(before.auths).toEqual({});
    const set = await patch(dr.id, { pullCredentials: registry.reader });
    expect(set.status, set.text).toBe(200);
    expect(RegistryView.parse(set.body).pullCredentialsSetAt).toEqual(expect.any(String));
    const withEntry = await pullSecret('blog');
    expect(Object.keys(withEntry.auths)).toEqual([dr.host]);
    expect(withEntry.etag).not.toBe(before.etag);

    const removed = await patch(dr.id, { pullCredentials: null });
    expect(removed.status, removed.text).toBe(200);
    expect(RegistryView.parse(removed.body).pullCredentialsSetAt).toBeUndefined();
    const without = await pullSecret('blog');
    expect(without.auths).toEqual({});
    expect(without.etag).not.toBe(withEntry.etag);

    expect((await patch(dr.id, { pullCredentials: registry.reader })).status).toBe(200);
  });

  it('gives a reader of W, once W has a private space bound, W’s robot and the Docker Registry’s read-only account', async () => {
    const unbound = await pullSecret('shop', readerA);
    expect(Object.keys(unbound.auths)).toEqual([dr.host]);
    await bind('vault', 'team-a');
    await bind('apps', 'team-a');
    await bind('ledger', 'team-b');
    await eventually(async () => hb.host in (await pullSecret('shop', readerA)).auths, 5000);
    const { auths, etag } = await pullSecret('shop', readerA);
    expect(etag).not.toBe(unbound.etag);
    expect(Object.keys(auths).sort()).toEqual([dr.host, hb.host].sort());
    const robot = auths[hb.host];
    const pull = auths[dr.host];
    expect(robot?.username).toBe(ROBOT);
    expect(pull).toEqual({ ...registry.reader, auth: Buffer.from(`${registry.reader.username}:${registry.reader.password}`).toString('base64') });
    expect(robot?.auth).toBe(Buffer.from(`${robot?.username}:${robot?.password}`).toString('base64'));
    // Exactly W's private projects: not the other workspace's.
    expect(harbor.robotCanPull(robot?.username ?? '', robot?.password ?? '', 'vault')).toBe(true);
    expect(harbor.robotCanPull(robot?.username ?? '', robot?.password ?? '', 'ledger')).toBe(false);
    // Never an integration's own credentials.
    expect(JSON.stringify(auths)).not.toContain(registry.password);
    expect(JSON.stringify(auths)).not.toContain(harbor.credentials.password);
    // The API's views name the robot, never its secret or the pull password.
    const workspace = await svc.call('GET', '/api/v1/workspaces/team-a');
    expect(workspace.text).toContain(ROBOT);
    for (const text of [workspace.text, (await svc.call('GET', `/api/v1/registries/${dr.id}`)).text]) {
      expect(text).not.toContain(robot?.password ?? '');
      expect(text).not.toContain(registry.reader.password);
    }
  });

  it('answers as kubectl prints the Secret: kind, apiVersion, metadata, data, type, 4-space JSON', async () => {
    const { secret, text, contentType } = await pullSecret('shop', readerA);
    expect(contentType).toMatch(/^application\/json/);
    expect(Object.keys(secret)).toEqual(['kind', 'apiVersion', 'metadata', 'data', 'type']);
    expect(Object.keys(secret.metadata)).toEqual(['name', 'namespace', 'creationTimestamp', 'labels', 'annotations']);
    expect(secret.metadata).toEqual({
      name: 'platform-registry-pull',
      namespace: 'shop',
      creationTimestamp: null,
      labels: { 'app.kubernetes.io/managed-by': 'platform-image-registry', 'platform-registry/workspace': 'team-a' },
      annotations: { 'platform-registry/cluster': 'prod' },
    });
    expect(text).toBe(`${JSON.stringify(secret, null, 4)}\n`);
  });

  it('refuses a reader of another workspace (403), and gives W2’s reader W2’s own robot', async () => {
    const res = await fetchSecret('shop', { token: readerB });
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('robot$');
    await eventually(async () => hb.host in (await pullSecret('shop-b', readerB)).auths, 5000);
    const { auths } = await pullSecret('shop-b', readerB);
    const robot = auths[hb.host];
    expect(robot?.username).toBe('robot$platform-registry.team-b');
    expect(harbor.robotCanPull(robot?.username ?? '', robot?.password ?? '', 'ledger')).toBe(true);
    expect(harbor.robotCanPull(robot?.username ?? '', robot?.password ?? '', 'vault')).toBe(false);
  });

  it('gives an admin only the Docker Registry entry for a namespace of no workspace, and for an unknown one', async () => {
    for (const ns of ['blog', 'ghost']) {
      const { auths, secret } = await pullSecret(ns);
      expect(Object.keys(auths)).toEqual([dr.host]);
      expect(secret.metadata.labels['platform-registry/workspace']).toBe('');
    }
  });

  it('answers 304 to an unchanged ETag, without a body, for JSON and YAML alike', async () => {
    const first = await fetchSecret('shop', { token: readerA });
    expect(first.etag).toMatch(/^"[^"]+"$/);
    const again = await fetchSecret('shop', { token: readerA, ifNoneMatch: first.etag });
    expect(again).toMatchObject({ status: 304, etag: first.etag, text: '' });
    expect(again.vary).toMatch(/accept/i);
    expect((await fetchSecret('shop', { token: readerA, ifNoneMatch: `"other", W/${first.etag}` })).status).toBe(304);
    expect((await fetchSecret('shop', { token: readerA, ifNoneMatch: '"other"' })).status).toBe(200);
    // Another namespace of W holds other metadata: its ETag is its own.
    expect((await fetchSecret('blog', { ifNoneMatch: first.etag })).status).toBe(200);
    const yaml = await fetchSecret('shop', { token: readerA, accept: 'application/yaml' });
    expect(yaml.etag).not.toBe(first.etag);
    expect((await fetchSecret('shop', { token: readerA, accept: 'application/yaml', ifNoneMatch: yaml.etag })).status).toBe(304);
    expect((await fetchSecret('shop', { token: readerA, accept: 'application/yaml', ifNoneMatch: first.etag })).status).toBe(200);
  });

  it('answers YAML for Accept: application/yaml, the same Secret as the JSON', async () => {
    const json = await pullSecret('shop', readerA);
    const yaml = await fetchSecret('shop', { token: readerA, accept: 'application/yaml' });
    expect(yaml.status).toBe(200);
    expect(yaml.contentType).toMatch(/^application\/yaml/);
    expect(yaml.text).not.toMatch(/^\s*\{/);
    expect(Secret.parse(parseYaml(yaml.text))).toEqual(json.secret);
  });

  it('keeps the ETag while more private projects are bound and unbound (same credentials), and the robot follows them', async () => {
    const { etag, auths } = await pullSecret('shop', readerA);
    const robot = auths[hb.host] ?? { username: '', password: '' };
    await bind('ledger', 'team-a');
    await eventually(async () => harbor.robotCanPull(robot.username, robot.password, 'ledger'), 5000);
    expect((await fetchSecret('shop', { token: readerA, ifNoneMatch: etag })).status).toBe(304);
    await unbind('ledger', 'team-a');
    await eventually(async () => !harbor.robotCanPull(robot.username, robot.password, 'ledger'), 5000);
    expect(harbor.robotCanPull(robot.username, robot.password, 'vault')).toBe(true);
    expect((await fetchSecret('shop', { token: readerA, ifNoneMatch: etag })).status).toBe(304);
  });

  it('rotates W’s robot on request (202): the secret and its ETag change, and the old password no longer pulls', async () => {
    const before = await pullSecret('shop', readerA);
    const old = before.auths[hb.host] ?? { username: '', password: '' };
    const res = await svc.call('POST', '/api/v1/workspaces/team-a/pull-credentials/rotate');
    expect(res.status, res.text).toBe(202);
    expect(Rotation.parse(res.body)).toMatchObject({ workspaceId: 'team-a', robots: [{ registryId: hb.id, robot: ROBOT }] });
    expect(res.text).not.toContain(old.password);
    await eventually(async () => (await fetchSecret('shop', { token: readerA, ifNoneMatch: before.etag })).status === 200, 5000);
    const after = await pullSecret('shop', readerA);
    const rotated = after.auths[hb.host] ?? { username: '', password: '' };
    expect(after.etag).not.toBe(before.etag);
    expect(rotated.username).toBe(ROBOT);
    expect(rotated.password).not.toBe(old.password);
    expect(after.auths[dr.host]).toEqual(before.auths[dr.host]);
    expect(harbor.robotCanPull(old.username, old.password, 'vault')).toBe(false);
    expect(harbor.robotCanPull(rotated.username, rotated.password, 'vault')).toBe(true);
    // The other workspace's robot is untouched.
    const b = (await pullSecret('shop-b', readerB)).auths[hb.host];
    expect(harbor.robotCanPull(b?.username ?? '', b?.password ?? '', 'ledger')).toBe(true);
  });

  it('drops the Harbor entry (new ETag) with W’s last private binding, and Harbor deletes the robot', async () => {
    const before = await pullSecret('shop', readerA);
    const robot = before.auths[hb.host] ?? { username: '', password: '' };
    await unbind('vault', 'team-a');
    await eventually(async () => !(hb.host in (await pullSecret('shop', readerA)).auths), 5000);
    const after = await pullSecret('shop', readerA);
    expect(Object.keys(after.auths)).toEqual([dr.host]);
    expect(after.etag).not.toBe(before.etag);
    // The public binding left needs no robot.
    expect(harbor.robots().map((r) => r.name)).toEqual(['robot$platform-registry.team-b']);
    expect(harbor.robotCanPull(robot.username, robot.password, 'vault')).toBe(false);
  });

  it('writes no robot secret, pull password, admin password or webhook secret to its log', async () => {
    const log = svc.output();
    // The log is on (DEBUG) and saw the work: an empty log would pass anything.
    expect(log).toMatch(/pull access synced/);
    expect(robotSecrets.size).toBeGreaterThanOrEqual(3);
    const secrets = [...robotSecrets, registry.reader.password, registry.password, harbor.credentials.password, hb.webhook.secret, dr.webhook.secret, 'not-the-password'];
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const leaks = secrets.flatMap((s) => [s, b64(s)]).filter((s) => log.includes(s));
    expect(leaks).toEqual([]);
    expect(log).not.toContain(b64(`${registry.reader.username}:${registry.reader.password}`));
    expect(log).not.toContain(b64(`${registry.username}:${registry.password}`));
  });
});
