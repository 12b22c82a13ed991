import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { PULL_SECRET_NAME, pullSecret, pullSecretLabels, renderJson, type PullEntry } from '../../shared/kubernetes/pull-secret.ts';
import { ROUTE_LIST } from '../../shared/topology.ts';

const MANIFEST = join(import.meta.dirname, '..', '..', 'deploy', 'pull-secret-sync.yaml');
const PULL_SECRET_ROUTE = '/api/v1/clusters/{cluster}/namespaces/{namespace}/pull-secret';
const MY_NAMESPACES_ROUTE = '/api/v1/me/namespaces';

type Doc = { kind: string; apiVersion: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
const docs = (): Doc[] =>
  parseAllDocuments(readFileSync(MANIFEST, 'utf8')).map((d) => {
    expect(d.errors, 'YAML errors').toEqual([]);
    return d.toJS() as Doc;
  });
const byKind = (kind: string): Doc & Record<string, any> => {
  const found = docs().filter((d) => d.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Doc & Record<string, any>;
};
const podSpec = () => byKind('CronJob').spec.jobTemplate.spec.template.spec;
const container = () => podSpec().containers[0];
const script = (): string => container().args[0];

const needs = (tool: string, args: string[]) => {
  if (spawnSync(tool, args, { encoding: 'utf8' }).status !== 0) throw new Error(`${tool} is not on PATH (Debian package ${tool}): the sync script is run for real`);
};

describe('the pull-secret sync manifest', () => {
  it('parses into the six objects one cluster needs, all namespaced ones in platform-registry-system', () => {
    const all = docs();
    expect(all.map((d) => `${d.apiVersion}/${d.kind}`)).toEqual([
      'v1/Namespace',
      'v1/ServiceAccount',
      'rbac.authorization.k8s.io/v1/ClusterRole',
      'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
      'v1/Secret',
      'batch/v1/CronJob',
    ]);
    for (const d of all.filter((x) => !['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(x.kind))) expect(d.metadata.namespace).toBe('platform-registry-system');
    expect(byKind('Namespace').metadata.name).toBe('platform-registry-system');
  });

  it('grants only get/create/patch of the pull Secret and get/patch of the default ServiceAccount, to the job alone', () => {
    expect(byKind('ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: [PULL_SECRET_NAME], verbs: ['get', 'create', 'patch'] },
      { apiGroups: [''], resources: ['serviceaccounts'], resourceNames: ['default'], verbs: ['get', 'patch'] },
    ]);
    const binding = byKind('ClusterRoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: byKind('ClusterRole').metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: byKind('ServiceAccount').metadata.name, namespace: 'platform-registry-system' }]);
    expect(podSpec().serviceAccountName).toBe(byKind('ServiceAccount').metadata.name);
  });

  it('reads URL, token and cluster from the placeholder Secret, which holds no token', () => {
    const secret = byKind('Secret');
    expect(Object.keys(secret.stringData).sort()).toEqual(['CLUSTER', 'PLATFORM_REGISTRY_TOKEN', 'PLATFORM_REGISTRY_URL']);
    expect(secret.stringData.PLATFORM_REGISTRY_TOKEN).toBe('');
    expect(container().env).toEqual(
      ['PLATFORM_REGISTRY_URL', 'PLATFORM_REGISTRY_TOKEN', 'CLUSTER'].map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: secret.metadata.name, key } } })),
    );
  });

  it('runs every 5 minutes, never overlapping, within a deadline shorter than the period, as a locked-down non-root pod', () => {
    const cron = byKind('CronJob');
    expect(cron.spec).toMatchObject({ schedule: '*/5 * * * *', concurrencyPolicy: 'Forbid' });
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBeLessThan(300);
    const pod = podSpec();
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers).toHaveLength(1);
    expect(pod.initContainers).toBeUndefined();
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container().securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container().volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  it('uses only stock images, each pinned to a version tag', () => {
    const images = podSpec().containers.map((c: { image: string }) => c.image);
    expect(images).toEqual(['docker.io/curlimages/curl:8.16.0']);
    for (const image of images) {
      expect(image).toMatch(/^[a-z0-9.-]+\.[a-z]+\/[a-z0-9/_-]+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?$/);
      expect(image).not.toMatch(/:latest\b/);
    }
  });

  it('names the pull-secret and my-namespaces routes exactly as ROUTE_LIST has them, and the Secret as PULL_SECRET_NAME', () => {
    const pullRoute = ROUTE_LIST.find((r) => r.method === 'GET' && r.path === PULL_SECRET_ROUTE);
    expect(pullRoute, `ROUTE_LIST has GET ${PULL_SECRET_ROUTE}`).toBeDefined();
    expect(ROUTE_LIST.find((r) => r.method === 'GET' && r.path === MY_NAMESPACES_ROUTE)).toBeDefined();
    const inScript = (path: string) => `$API${path.replace('{cluster}', '${CLUSTER}').replace('{namespace}', '${ns}')}`;
    // Every platform URL the script builds, each exactly once.
    expect([...script().matchAll(/"(\$API\/[^"]*)"/g)].map((m) => m[1])).toEqual([inScript(MY_NAMESPACES_ROUTE), inScript(pullRoute?.path ?? PULL_SECRET_ROUTE)]);
    expect(script()).toMatch(new RegExp(`^NAME=${PULL_SECRET_NAME}$`, 'm'));
    expect(byKind('ClusterRole').rules[0].resourceNames).toEqual([PULL_SECRET_NAME]);
  });

  it('embeds a script that sh accepts (sh -n)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pull-secret-sync-'));
    try {
      writeFileSync(join(dir, 'sync.sh'), script());
      const check = spawnSync('sh', ['-n', join(dir, 'sync.sh')], { encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- the script, run for real (sh + curl) against a fake platform API and a fake Kubernetes API over TLS ----

const API_TOKEN = 'api-token-Example-0123456789';
const KUBE_TOKEN = 'kube-token-Example-9876543210';
const ROBOT: PullEntry = { host: 'harbor.example.com', username: 'robot$team-a+ci', password: 'robot-Passw0rd-Example' };
const managedLabels = pullSecretLabels('team-a');

type Obj = { metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: unknown };
type Seen = { method: string; url: string; headers: IncomingMessage['headers']; body: string };

const body = async (req: IncomingMessage) => {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
};
const send = (res: ServerResponse, status: number, value?: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value));
};
const status = (res: ServerResponse, code: number, reason: string) => send(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `secret message ${KUBE_TOKEN}`, reason, code });

const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(server.address() as AddressInfo).port}`)));

describe('the pull-secret sync script, run against fakes of both APIs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pull-secret-sync-run-'));
  const apiSeen: Seen[] = [];
  const kubeSeen: Seen[] = [];
  const broken = { now: true };
  // The cluster: `gone` is registered in the platform but missing here; `foreign` holds someone else's Secret.
  const namespaces = new Set(['shop', 'blog', 'broken', 'foreign']);
  const secrets = new Map<string, Obj>();
  const serviceAccounts = new Map<string, Obj & { imagePullSecrets?: { name: string }[] }>();
  let rv = 100;
  let api: Server;
  let kube: Server;
  let apiUrl = '';
  let kubeUrl = '';

  const served = (ns: string) => renderJson(pullSecret(ns, [ROBOT], { labels: managedLabels }));
  const etagOf = (ns: string) => `"v1-${ns}"`;

  beforeAll(async () => {
    needs('curl', ['--version']);
    needs('openssl', ['version']);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.crt')], { stdio: 'ignore' });
    writeFileSync(join(dir, 'token'), `${KUBE_TOKEN}\n`);
    const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.crt')) };

    secrets.set('shop', { ...(JSON.parse(served('shop')) as Obj), metadata: { name: PULL_SECRET_NAME, namespace: 'shop', labels: managedLabels, annotations: { 'platform-registry/etag': 'v1-shop' } } });
    secrets.set('foreign', { kind: 'Secret', apiVersion: 'v1', metadata: { name: PULL_SECRET_NAME, namespace: 'foreign' }, type: 'Opaque' });
    for (const ns of namespaces) serviceAccounts.set(ns, { kind: 'ServiceAccount', apiVersion: 'v1', metadata: { name: 'default', namespace: ns, resourceVersion: String(rv++) } });
    serviceAccounts.get('shop')!.imagePullSecrets = [{ name: 'other' }, { name: PULL_SECRET_NAME }];
    serviceAccounts.get('blog')!.imagePullSecrets = [{ name: 'existing' }];

    api = createServer(tls, async (req, res) => {
      apiSeen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: await body(req) });
      if (req.headers.authorization !== `Bearer ${API_TOKEN}`) return send(res, 401, { error: 'unauthorized' });
      if (req.url === '/api/v1/me/namespaces') {
        const items = ['shop', 'blog', 'broken', 'gone', 'foreign'].map((namespace) => ({ cluster: 'prod', namespace, workspaceId: 'team-a' }));
        return send(res, 200, { admin: false, workspaces: ['team-a'], items: [...items, { cluster: 'staging', namespace: 'elsewhere', workspaceId: null }] });
      }
      const m = /^\/api\/v1\/clusters\/prod\/namespaces\/([a-z0-9-]+)\/pull-secret$/.exec(req.url ?? '');
      if (!m?.[1] || req.method !== 'GET') return send(res, 404, { error: 'not found' });
      if (m[1] === 'broken' && broken.now) return send(res, 503, { error: 'down' });
      if (req.headers['if-none-match'] === etagOf(m[1])) return send(res, 304, undefined, { etag: etagOf(m[1]) });
      return send(res, 200, served(m[1]), { etag: etagOf(m[1]) });
    });
    kube = createServer(tls, async (req, res) => {
      const text = await body(req);
      kubeSeen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text });
      if (req.headers.authorization !== `Bearer ${KUBE_TOKEN}`) return status(res, 401, 'Unauthorized');
      const url = new URL(req.url ?? '/', 'https://kube');
      const m = /^\/api\/v1\/namespaces\/([a-z0-9-]+)\/(secrets|serviceaccounts)\/([a-z0-9.-]+)$/.exec(url.pathname);
      if (!m) return status(res, 404, 'NotFound');
      const [, ns = '', resource, name] = m;
      const type = req.headers['content-type'];
      if (resource === 'secrets' && name === PULL_SECRET_NAME) {
        const current = secrets.get(ns);
        if (req.method === 'GET') return current ? send(res, 200, current) : status(res, 404, 'NotFound');
        if (req.method === 'PATCH' && type === 'application/apply-patch+yaml') {
          if (!namespaces.has(ns)) return status(res, 404, 'NotFound');
          const applied = JSON.parse(text) as Obj;
          if (applied.metadata.name !== name || applied.metadata.namespace !== ns) return status(res, 400, 'BadRequest');
          // Fields of the other field manager (the ETag annotation) survive an apply that does not name them.
          const etag = current?.metadata.annotations?.['platform-registry/etag'];
          secrets.set(ns, { ...applied, metadata: { ...applied.metadata, ...(etag && { annotations: { ...applied.metadata.annotations, 'platform-registry/etag': etag } }) } });
          return send(res, current ? 200 : 201, secrets.get(ns));
        }
        if (req.method === 'PATCH' && type === 'application/merge-patch+json' && current) {
          const patch = JSON.parse(text) as { metadata: { annotations: Record<string, string> } };
          current.metadata.annotations = { ...current.metadata.annotations, ...patch.metadata.annotations };
          return send(res, 200, current);
        }
      }
      if (resource === 'serviceaccounts' && name === 'default') {
        const sa = serviceAccounts.get(ns);
        if (!sa) return status(res, 404, 'NotFound');
        if (req.method === 'GET') return send(res, 200, sa);
        if (req.method === 'PATCH' && type === 'application/json-patch+json') {
          const ops = JSON.parse(text) as { op: string; path: string; value: any }[];
          for (const op of ops) {
            if (op.op === 'test' && op.path === '/metadata/resourceVersion' && op.value !== sa.metadata.resourceVersion) return status(res, 422, 'Invalid');
            else if (op.op === 'add' && op.path === '/imagePullSecrets' && !sa.imagePullSecrets) sa.imagePullSecrets = op.value;
            else if (op.op === 'add' && op.path === '/imagePullSecrets/-' && sa.imagePullSecrets) sa.imagePullSecrets.push(op.value);
            else if (op.op !== 'test') return status(res, 422, 'Invalid');
          }
          sa.metadata.resourceVersion = String(rv++);
          return send(res, 200, sa);
        }
      }
      return status(res, 403, 'Forbidden');
    });
    [apiUrl, kubeUrl] = await Promise.all([listen(api), listen(kube)]);
  });

  afterAll(async () => {
    await Promise.all([api, kube].filter(Boolean).map((s) => new Promise((resolve) => s.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  const run = () =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PLATFORM_REGISTRY_URL: `${apiUrl}/`, PLATFORM_REGISTRY_TOKEN: `${API_TOKEN}\n`, CLUSTER: 'prod', KUBE_API_URL: kubeUrl, SERVICE_ACCOUNT_DIR: dir, CURL_CA_BUNDLE: join(dir, 'ca.crt'), TMPDIR: dir };
      execFile('sh', ['-c', script()], { env, timeout: 30_000 }, (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, out, err }));
    });
  const noSecretsIn = (text: string) => {
    const data = ['blog', 'shop'].map((ns) => (JSON.parse(served(ns)) as { data: Record<string, string> }).data['.dockerconfigjson'] ?? '');
    for (const secret of [API_TOKEN, KUBE_TOKEN, ROBOT.password, Buffer.from(`${ROBOT.username}:${ROBOT.password}`).toString('base64'), ...data]) expect(text).not.toContain(secret.slice(0, 40));
  };

  it('syncs each namespace of its cluster on its own, keeps other pull secrets, and exits non-zero when one failed', async () => {
    const { code, out, err } = await run();
    expect(err).toBe('');
    expect(out.split('\n').filter(Boolean).sort()).toEqual([
      'pull-secret-sync: cluster=prod namespaces=5 failed=2',
      'pull-secret-sync: ns=blog secret=updated serviceaccount=updated',
      'pull-secret-sync: ns=broken FAILED: GET /api/v1/clusters/prod/namespaces/broken/pull-secret answered 503',
      `pull-secret-sync: ns=foreign FAILED: a Secret ${PULL_SECRET_NAME} not managed by platform-image-registry is in the way; left alone`,
      'pull-secret-sync: ns=gone skipped: no such namespace in this cluster',
      'pull-secret-sync: ns=shop secret=unchanged serviceaccount=unchanged',
    ]);
    expect(code).toBe(1);
    noSecretsIn(out);

    expect(secrets.get('blog')).toEqual({ ...JSON.parse(served('blog')), metadata: { ...JSON.parse(served('blog')).metadata, annotations: { 'platform-registry/etag': 'v1-blog' } } });
    expect(serviceAccounts.get('blog')?.imagePullSecrets).toEqual([{ name: 'existing' }, { name: PULL_SECRET_NAME }]);
    expect(serviceAccounts.get('shop')?.imagePullSecrets).toEqual([{ name: 'other' }, { name: PULL_SECRET_NAME }]);
    expect(secrets.get('foreign')?.type).toBe('Opaque');
    expect(serviceAccounts.get('foreign')?.imagePullSecrets).toBeUndefined();
    expect(apiSeen.find((r) => r.url.endsWith('/shop/pull-secret'))?.headers['if-none-match']).toBe('"v1-shop"');
    expect(apiSeen.find((r) => r.url.endsWith('/blog/pull-secret'))?.headers['if-none-match']).toBeUndefined();
    expect(apiSeen.some((r) => r.url.includes('elsewhere'))).toBe(false);
    expect(kubeSeen.filter((r) => r.method === 'PATCH' && r.url.includes('/secrets/')).map((r) => r.url)).toEqual([
      `/api/v1/namespaces/blog/secrets/${PULL_SECRET_NAME}?fieldManager=platform-registry-pull-sync&force=true`,
      `/api/v1/namespaces/blog/secrets/${PULL_SECRET_NAME}?fieldManager=platform-registry-pull-sync-etag`,
      `/api/v1/namespaces/gone/secrets/${PULL_SECRET_NAME}?fieldManager=platform-registry-pull-sync&force=true`,
    ]);
  });

  it('converges on the next run: unchanged answers are 304s and nothing is patched twice', async () => {
    broken.now = false;
    secrets.delete('foreign');
    apiSeen.length = 0;
    kubeSeen.length = 0;
    const { code, out } = await run();
    expect(out.split('\n').filter(Boolean).sort()).toEqual([
      'pull-secret-sync: cluster=prod namespaces=5 failed=0',
      'pull-secret-sync: ns=blog secret=unchanged serviceaccount=unchanged',
      'pull-secret-sync: ns=broken secret=updated serviceaccount=updated',
      'pull-secret-sync: ns=foreign secret=updated serviceaccount=updated',
      'pull-secret-sync: ns=gone skipped: no such namespace in this cluster',
      'pull-secret-sync: ns=shop secret=unchanged serviceaccount=unchanged',
    ]);
    expect(code).toBe(0);
    noSecretsIn(out);
    expect(apiSeen.find((r) => r.url.endsWith('/blog/pull-secret'))?.headers['if-none-match']).toBe('"v1-blog"');
    expect(kubeSeen.filter((r) => r.method === 'PATCH' && /\/(blog|shop)\//.test(r.url))).toEqual([]);
    expect(serviceAccounts.get('foreign')?.imagePullSecrets).toEqual([{ name: PULL_SECRET_NAME }]);
  });

  it('refuses to start without a token, an https URL or a cluster name, and says which', async () => {
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', PLATFORM_REGISTRY_URL: apiUrl, PLATFORM_REGISTRY_TOKEN: API_TOKEN, CLUSTER: 'prod', SERVICE_ACCOUNT_DIR: dir };
    const cases: [Record<string, string>, RegExp][] = [
      [{ PLATFORM_REGISTRY_TOKEN: '' }, /PLATFORM_REGISTRY_TOKEN is empty/],
      [{ PLATFORM_REGISTRY_URL: apiUrl.replace('https:', 'http:') }, /must be an https:\/\/ URL/],
      [{ CLUSTER: '' }, /CLUSTER must be/],
    ];
    for (const [override, message] of cases) {
      const result = spawnSync('sh', ['-c', script()], { env: { ...base, ...override }, encoding: 'utf8' });
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});
