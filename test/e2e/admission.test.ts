import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { fixture, rawFixture } from '../helpers/fixtures.ts';
import { harborAuthorization, harborEvent, projectOf } from '../helpers/harbor-events.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const PUBLIC_URL = 'https://images.example.test';
const MIB = 1024 * 1024;

const Created = z.object({ id: z.string(), host: z.string(), webhook: z.object({ url: z.string(), secret: z.string() }) });
const Page = z.object({ items: z.array(z.object({ image: z.string() })) });
const ErrorBody = z.object({ error: z.string(), message: z.string() });
const Answer = z.strictObject({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  response: z.strictObject({
    uid: z.string(),
    allowed: z.boolean(),
    status: z.strictObject({ code: z.number(), message: z.string() }).optional(),
    warnings: z.array(z.string()).optional(),
  }),
});
const ClusterView = z.looseObject({ cluster: z.string(), mode: z.string(), unmanagedImages: z.string(), exemptNamespaces: z.array(z.string()), webhookUrl: z.string() });
const Registered = ClusterView.extend({ admissionToken: z.string().regex(/^pira_/) });
const Rotated = z.object({ admissionToken: z.string(), previousTokenValidUntil: z.string() });
const Decisions = z.object({
  refusals: z.number(),
  items: z.array(z.looseObject({ at: z.string(), uid: z.string(), mode: z.string(), enforced: z.boolean(), namespace: z.string(), images: z.array(z.looseObject({ image: z.string(), link: z.string() })) })),
});
const Config = z.looseObject({
  webhookUrl: z.string(),
  validatingWebhookConfiguration: z.object({ object: z.unknown(), yaml: z.string() }),
  apiServer: z.object({
    admissionConfiguration: z.object({ path: z.string(), yaml: z.string() }),
    kubeconfig: z.object({ path: z.string(), yaml: z.string(), tokenPlaceholder: z.string() }),
  }),
});
const Rule = z.object({ apiGroups: z.array(z.string()), resources: z.array(z.string()) });
const Webhook = z.looseObject({
  clientConfig: z.object({ url: z.string() }),
  rules: z.array(Rule),
  sideEffects: z.string(),
  admissionReviewVersions: z.array(z.string()),
  failurePolicy: z.string(),
  namespaceSelector: z.object({ matchExpressions: z.array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()) })) }),
});
const WebhookConfiguration = z.looseObject({ webhooks: z.tuple([Webhook]) });
const AdmissionConfiguration = z.looseObject({ plugins: z.tuple([z.object({ name: z.string(), configuration: z.looseObject({ kubeConfigFile: z.string() }) })]) });
const Kubeconfig = z.looseObject({ users: z.tuple([z.object({ name: z.string(), user: z.object({ token: z.string() }) })]) });

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The node of the fixture at `path` (itself, not a copy, so it can be changed in place). */
const nodeAt = (root: unknown, path: (string | number)[]) =>
  path.reduce<unknown>((node, key) => {
    const next = Array.isArray(node) && typeof key === 'number' ? node[key] : isRecord(node) && typeof key === 'string' ? node[key] : undefined;
    if (next === undefined) throw new Error(`fixture has no ${path.join('.')}`);
    return next;
  }, root);

/**
 * Sets one field that the fixture already has (the walk throws on a missing step, so a test only changes what
 * exists, and a fixture whose shape moved fails loudly instead of silently testing something else).
 */
const setAt = (root: unknown, path: (string | number)[], value: unknown) => {
  const parent = nodeAt(root, path.slice(0, -1));
  const last = path.at(-1)!;
  if (Array.isArray(parent) && typeof last === 'number' && last < parent.length) parent[last] = value;
  else if (isRecord(parent) && typeof last === 'string' && last in parent) parent[last] = value;
  else throw new Error(`fixture has no ${path.join('.')}`);
  return root;
};

let uids = 0;
/**
 * A fixture review with its namespace (request and object) and uid changed, and `images` put at the given paths
 * under `request.object`. A fresh uid each time: the answer and the decision log are matched on it.
 */
const reviewOf = (name: string, namespace: string, images: [(string | number)[], string][] = []) => {
  const review = structuredClone(fixture(`kubernetes/${name}`));
  setAt(review, ['request', 'uid'], `e2e-${++uids}`);
  setAt(review, ['request', 'namespace'], namespace);
  setAt(review, ['request', 'object', 'metadata', 'namespace'], namespace);
  // An UPDATE carries the object twice.
  if (isRecord(nodeAt(review, ['request', 'oldObject']))) setAt(review, ['request', 'oldObject', 'metadata', 'namespace'], namespace);
  for (const [path, image] of images) setAt(review, ['request', 'object', ...path, 'image'], image);
  return review;
};
const uidOf = (review: unknown) => z.object({ request: z.object({ uid: z.string() }) }).parse(review).request.uid;

// Where the images sit in each fixture (as the fixture has them).
const POD_API = ['spec', 'containers', 0];
const DEPLOY_API = ['spec', 'template', 'spec', 'containers', 0];
const DEPLOY_SIDECAR = ['spec', 'template', 'spec', 'containers', 1];
const CRON_INIT = ['spec', 'jobTemplate', 'spec', 'template', 'spec', 'initContainers', 0];
const CRON_REPORT = ['spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers', 0];
const EPHEMERAL = ['spec', 'ephemeralContainers', 0];

const ResponseFixture = z.object({ apiVersion: z.string(), kind: z.string(), response: z.record(z.string(), z.unknown()) });
/**
 * The keys an answer must have, from the docs' response fixtures: a refusal's (uid, allowed, status) or an allowance's,
 * plus `warnings` (as in the warnings fixture) when there are any; a refusal may carry warnings for unmanaged images.
 */
const expectedShape = (a: z.infer<typeof Answer>['response']) => {
  const base = ResponseFixture.parse(fixture(`kubernetes/admissionreview-v1-response-${a.allowed ? 'allowed' : 'denied'}.json`));
  const warned = ResponseFixture.parse(fixture('kubernetes/admissionreview-v1-response-allowed-warnings.docs.json'));
  const keys = new Set([...Object.keys(base.response), ...(a.warnings ? Object.keys(warned.response) : [])]);
  return { apiVersion: base.apiVersion, kind: base.kind, keys: [...keys].sort() };
};

/** Every key of a parsed YAML/JSON document as a path (`webhooks[].rules[].scope`), to compare shapes. */
const keyPaths = (v: unknown, prefix = ''): string[] =>
  Array.isArray(v) ? [...new Set(v.flatMap((x) => keyPaths(x, `${prefix}[]`)))] : isRecord(v) ? Object.entries(v).flatMap(([k, x]) => [`${prefix}.${k}`, ...keyPaths(x, `${prefix}.${k}`)]) : [];

describe('the admission webhook over HTTP: clusters, reviews of real fixtures, decisions and the config to paste', () => {
  let svc: Service;
  let harbor: FakeHarbor;
  let reg: z.infer<typeof Created>;
  let prodToken: string;
  /** Every admission token ever handed out: none may show in the service's log. */
  const tokens = new Set<string>();

  const image = (path: string) => `${reg.host}/${path}`;
  const post = (cluster: string, body: unknown, token: string) => svc.call('POST', `/admission/clusters/${cluster}`, body, null, { authorization: `Bearer ${token}` });
  /** Posts the review and checks the answer's shape against the docs' response fixtures and its uid. */
  const admit = async (review: unknown, cluster = 'prod', token = prodToken) => {
    const res = await post(cluster, review, token);
    expect(res.status, res.text).toBe(200);
    const answer = Answer.parse(res.body);
    expect(answer.response.uid).toBe(uidOf(review));
    expect({ apiVersion: answer.apiVersion, kind: answer.kind, keys: Object.keys(answer.response).sort() }).toEqual(expectedShape(answer.response));
    if (!answer.response.allowed) expect(answer.response.status?.code).toBe(403);
    return answer.response;
  };
  const putCluster = async (cluster: string, body: unknown) => {
    const res = await svc.call('PUT', `/api/v1/clusters/${cluster}`, body);
    if (res.status === 201) tokens.add(Registered.parse(res.body).admissionToken);
    return res;
  };
  const setProd = async (settings: Json) => expect((await putCluster('prod', settings)).status).toBe(200);
  const decisions = async (cluster: string, query = '') => {
    const res = await svc.call('GET', `/api/v1/clusters/${cluster}/admission-decisions${query}`);
    expect(res.status, res.text).toBe(200);
    return Decisions.parse(res.body);
  };
  const selector = async (ns: string) => Page.parse((await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/images?limit=100`)).body).items.map((i) => i.image);
  const push = async (project: string, repo: string, tag: string, repoType: 'public' | 'private') => {
    const body = harborEvent('PUSH_ARTIFACT', { host: reg.host, project, repo, tag, digest: fakeDigest(`${project}/${repo}:${tag}`), occurAt: 1_760_000_000, repoType });
    const res = await svc.call('POST', `/webhooks/harbor/${reg.id}`, body, null, { authorization: harborAuthorization(reg.webhook.secret, projectOf(body)) });
    expect(res.status, res.text).toBe(200);
  };

  beforeAll(async () => {
    // DEBUG: the log check below must see everything the service would ever write.
    [svc, harbor] = await Promise.all([startService({ env: { POWERTOOLS_LOG_LEVEL: 'DEBUG', PUBLIC_URL } }), startFakeHarbor()]);
    const h = await svc.call('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials });
    expect(h.status, h.text).toBe(201);
    reg = Created.parse(h.body);
    // Workspace names no fixture contains, so "the message does not name them" cannot pass or fail by accident.
    for (const w of ['wolves', 'otters', 'herons']) expect((await svc.call('PUT', `/api/v1/workspaces/${w}`, {})).status).toBe(201);
    for (const [ns, workspaceId] of [['shop', 'wolves'], ['blog', 'otters'], ['nest', 'herons']] as const)
      expect((await svc.call('PUT', `/api/v1/clusters/prod/namespaces/${ns}`, { workspaceId })).status).toBe(201);
    for (const [name, visibility] of [['vault', 'private'], ['ledger', 'private'], ['apps', 'public']] as const)
      expect((await svc.call('POST', `/api/v1/registries/${reg.id}/spaces`, { name, visibility })).status).toBe(201);
    for (const [space, w] of [['vault', 'wolves'], ['ledger', 'herons']]) expect((await svc.call('PUT', `/api/v1/registries/${reg.id}/spaces/${space}/bindings/${w}`)).status).toBe(204);
    await push('vault', 'db', '1.0', 'private');
    await push('ledger', 'books', '2', 'private');
    await push('apps', 'web', 'v1', 'public');
    await eventually(async () => {
      const [shop, nest] = await Promise.all([selector('shop'), selector('nest')]);
      return shop.includes(image('vault/db')) && shop.includes(image('apps/web')) && nest.includes(image('ledger/books'));
    }, 5000);
    const created = await putCluster('prod', { unmanagedImages: 'allow' });
    expect(created.status, created.text).toBe(201);
    prodToken = Registered.parse(created.body).admissionToken;
  });
  afterAll(async () => {
    await svc?.stop();
    await harbor?.close();
  });

  it('allows W’s private image in W’s namespace, refuses it elsewhere without naming who has it, and allows a public one everywhere', async () => {
    await setProd({ unmanagedImages: 'allow' });
    // Only the `api` container's image changes; the fixture's other images are on unmanaged hosts (warnings under allow).
    expect(await admit(reviewOf('admissionreview-v1-pod-create.json', 'shop', [[POD_API, image('vault/db:1.0')]]))).toMatchObject({ allowed: true });

    for (const ns of ['blog', 'nest']) {
      const refused = await admit(reviewOf('admissionreview-v1-pod-create.json', ns, [[POD_API, image('vault/db:1.0')]]));
      expect(refused.allowed).toBe(false);
      const message = refused.status?.message ?? '';
      expect(message).toContain(`container api (${image('vault/db:1.0')})`);
      expect(message).toMatch(ns === 'blog' ? /not offered to workspace otters/ : /not offered to workspace herons/);
      // Whom the space is bound to stays with the admins, and so do other workspaces' bindings.
      expect(message).not.toContain('wolves');
      expect(message).not.toContain(ns === 'blog' ? 'herons' : 'otters');
      expect(message).not.toContain('ledger');
      // Only the refused image is named; the unmanaged ones are warnings.
      expect(message).not.toContain('busybox');
    }
    const stray = await admit(reviewOf('admissionreview-v1-pod-create.json', 'stray', [[POD_API, image('vault/db:1.0')]]));
    expect(stray.status?.message).toContain('namespace prod/stray is not registered');

    for (const ns of ['shop', 'blog', 'nest', 'stray'])
      expect(await admit(reviewOf('admissionreview-v1-pod-create.json', ns, [[POD_API, image('apps/web:v1')]])), ns).toMatchObject({ allowed: true });

    // The repository decides: no tag (latest), a tag never pushed and a digest are allowed when it is.
    for (const ref of ['vault/db', 'vault/db:9.9', `vault/db@${fakeDigest('never-pushed')}`])
      expect(await admit(reviewOf('admissionreview-v1-pod-create.json', 'shop', [[POD_API, image(ref)]])), ref).toMatchObject({ allowed: true });
    // A repository nobody pushed to, in W's own space, is not selectable either.
    const unknownRepo = await admit(reviewOf('admissionreview-v1-pod-create.json', 'shop', [[POD_API, image('vault/nothing:1')]]));
    expect(unknownRepo.allowed).toBe(false);
    const invalid = await admit(reviewOf('admissionreview-v1-pod-create.json', 'shop', [[POD_API, image('vault/DB:1.0')]]));
    expect(invalid.status?.message).toContain(`container api (${image('vault/DB:1.0')}): not a valid image reference`);
  });

  it('refuses W’s image the moment its binding goes, without waiting for the index, and allows it again once rebound', async () => {
    const review = () => reviewOf('admissionreview-v1-pod-create.json', 'shop', [[POD_API, image('vault/db:1.0')]]);
    const binding = `/api/v1/registries/${reg.id}/spaces/vault/bindings/wolves`;
    expect((await svc.call('DELETE', binding)).status).toBe(204);
    try {
      // No wait: the truth (the binding) decides, whatever the index still says.
      expect((await admit(review())).allowed).toBe(false);
    } finally {
      expect((await svc.call('PUT', binding)).status).toBe(204);
    }
    await eventually(async () => (await admit(review())).allowed, 5000);
  });

  it('refuses a Deployment or a CronJob for its one refused container and names only that one', async () => {
    await setProd({ unmanagedImages: 'allow' });
    const deployment = await admit(reviewOf('admissionreview-v1-deployment-create.json', 'shop', [[DEPLOY_API, image('vault/db:1.0')], [DEPLOY_SIDECAR, image('ledger/books:2')]]));
    expect(deployment.allowed).toBe(false);
    expect(deployment.status?.message).toMatch(new RegExp(`^an image is not allowed in namespace prod/shop: container metrics-sidecar \\(${image('ledger/books:2').replace(/[.]/g, '\\.')}\\): `));
    expect(deployment.status?.message).not.toContain('vault/db');
    expect(deployment.status?.message).not.toContain('container api');
    // The init container's docker.io image is allowed with a warning that names its host.
    expect(deployment.warnings).toEqual([expect.stringMatching(/^container wait-for-db \(docker\.io\/library\/busybox:1\.36\): host docker\.io /)]);

    // The images sit under jobTemplate; the digest forms are not indexed, their repositories are.
    const cron = await admit(
      reviewOf('admissionreview-v1-cronjob-create.json', 'shop', [
        [CRON_INIT, image(`vault/db@${fakeDigest('not-indexed')}`)],
        [CRON_REPORT, image(`ledger/books:2.0.1@${fakeDigest('also-not-indexed')}`)],
      ]),
    );
    expect(cron.allowed).toBe(false);
    expect(cron.status?.message).toContain(`container report (${image('ledger/books:2.0.1@')}`);
    expect(cron.status?.message).not.toContain('fetch-config');
    const allowedCron = await admit(reviewOf('admissionreview-v1-cronjob-create.json', 'nest', [[CRON_INIT, image('apps/web:v1')], [CRON_REPORT, image(`ledger/books:2.0.1@${fakeDigest('x')}`)]]));
    expect(allowedCron).toMatchObject({ allowed: true });
  });

  it('judges only the new ephemeral container of a kubectl debug UPDATE, not the pod’s existing image', async () => {
    // Under deny the pod's existing registry.k8s.io/pause would be refused, were it judged.
    await setProd({ unmanagedImages: 'deny' });
    const pauseAlone = await admit(reviewOf('admissionreview-v1-pod-create.json', 'shop', [[POD_API, 'registry.k8s.io/pause:3.9']]));
    expect(pauseAlone.allowed).toBe(false);

    const ok = reviewOf('admissionreview-v1-pod-ephemeralcontainers-update.json', 'shop', [[EPHEMERAL, image('vault/db:1.0')]]);
    expect(await admit(ok)).toEqual({ uid: uidOf(ok), allowed: true });

    const refused = await admit(reviewOf('admissionreview-v1-pod-ephemeralcontainers-update.json', 'shop', [[EPHEMERAL, image('ledger/books:2')]]));
    expect(refused.allowed).toBe(false);
    expect(refused.status?.message).toContain(`container debugger-7hq2s (${image('ledger/books:2')})`);
    expect(refused.status?.message).not.toContain('pause');
  });

  it('follows unmanagedImages for hosts no registry serves, and never refuses an exempt namespace or kube-system', async () => {
    const unmanaged = (ns: string) =>
      reviewOf('admissionreview-v1-deployment-create.json', ns, [
        [DEPLOY_API, 'docker.io/library/busybox'],
        [DEPLOY_SIDECAR, 'registry.k8s.io/pause'],
      ]);
    await setProd({ unmanagedImages: 'allow' });
    const allowed = await admit(unmanaged('shop'));
    expect(allowed.allowed).toBe(true);
    expect(allowed.warnings?.some((w) => w.startsWith('container metrics-sidecar (registry.k8s.io/pause): host registry.k8s.io '))).toBe(true);
    expect(allowed.warnings?.some((w) => w.startsWith('container api (docker.io/library/busybox): host docker.io '))).toBe(true);

    await setProd({ unmanagedImages: 'deny', exemptNamespaces: ['tools'] });
    const denied = await admit(unmanaged('shop'));
    expect(denied.allowed).toBe(false);
    expect(denied.status?.message).toMatch(/^3 images are not allowed/);
    expect(denied.status?.message).toContain('host registry.k8s.io is not a registry the platform manages, and cluster prod refuses unmanaged images');

    // Refused images of every kind, yet exempt: allowed untouched.
    const everything: [(string | number)[], string][] = [
      [DEPLOY_API, image('ledger/books:2')],
      [DEPLOY_SIDECAR, 'registry.k8s.io/pause'],
    ];
    for (const ns of ['tools', 'kube-system']) {
      const review = reviewOf('admissionreview-v1-deployment-create.json', ns, everything);
      expect(await admit(review), ns).toEqual({ uid: uidOf(review), allowed: true });
    }
    expect((await admit(reviewOf('admissionreview-v1-deployment-create.json', 'blog', everything))).allowed).toBe(false);
  });

  it('in audit mode allows, warns what it would refuse and lists it; enforce refusals are listed newest first; dry runs are not', async () => {
    const canary = await putCluster('canary', { unmanagedImages: 'deny', mode: 'audit' });
    expect(canary.status, canary.text).toBe(201);
    const canaryToken = Registered.parse(canary.body).admissionToken;
    // canary/shop is not registered: a private image would be refused there.
    const audited = reviewOf('admissionreview-v1-pod-create.json', 'shop', [[POD_API, image('vault/db:1.0')]]);
    const audit = await admit(audited, 'canary', canaryToken);
    expect(audit.allowed).toBe(true);
    expect(audit.warnings).toContainEqual(expect.stringMatching(new RegExp(`^audit: would refuse container api \\(${image('vault/db:1.0').replace(/[.]/g, '\\.')}\\): namespace canary/shop is not registered`)));
    expect(audit.warnings).toContainEqual(expect.stringMatching(/^audit: would refuse container wait-for-db \(docker\.io\/library\/busybox:1\.36\): host docker\.io/));
    const log = await decisions('canary');
    expect(log.refusals).toBe(1);
    expect(log.items).toEqual([expect.objectContaining({ uid: uidOf(audited), mode: 'audit', enforced: false, namespace: 'shop' })]);

    await setProd({ unmanagedImages: 'allow' });
    const before = await decisions('prod');
    const first = reviewOf('admissionreview-v1-pod-create.json', 'blog', [[POD_API, image('vault/db:1.0')]]);
    const second = reviewOf('admissionreview-v1-pod-create.json', 'nest', [[POD_API, image('vault/db:1.0')]]);
    expect((await admit(first)).allowed).toBe(false);
    // Distinct times, so order and `since` have something to tell apart.
    await new Promise((r) => setTimeout(r, 20));
    const secondAnswer = await admit(second);
    const dry = reviewOf('admissionreview-v1-pod-create.json', 'nest', [[POD_API, image('vault/db:1.0')]]);
    setAt(dry, ['request', 'dryRun'], true);
    const dryAnswer = await admit(dry);
    expect({ ...dryAnswer, uid: '' }).toEqual({ ...secondAnswer, uid: '' });

    const after = await decisions('prod');
    expect(after.refusals).toBe(before.refusals + 2);
    const ours = after.items.filter((d) => [first, second, dry].map(uidOf).includes(d.uid));
    expect(ours.map((d) => [d.uid, d.enforced, d.namespace])).toEqual([
      [uidOf(second), true, 'nest'],
      [uidOf(first), true, 'blog'],
    ]);
    expect(ours[0]?.images).toEqual([expect.objectContaining({ image: image('vault/db:1.0'), link: 'grant' })]);
    const since = await decisions('prod', `?since=${encodeURIComponent(new Date(Date.parse(ours[1]!.at) + 1).toISOString())}`);
    expect(since.items.map((d) => d.uid)).toContain(uidOf(second));
    expect(since.items.map((d) => d.uid)).not.toContain(uidOf(first));
  });

  it('allows DELETE and CONNECT untouched and answers 400 to what is not an AdmissionReview v1', async () => {
    await setProd({ unmanagedImages: 'deny' });
    for (const operation of ['DELETE', 'CONNECT']) {
      // The object keeps a refused image: it must not matter.
      const review = reviewOf('admissionreview-v1-pod-create.json', 'blog', [[POD_API, image('ledger/books:2')]]);
      setAt(review, ['request', 'operation'], operation);
      expect(await admit(review), operation).toEqual({ uid: uidOf(review), allowed: true });
    }
    const v1beta1 = await post('prod', fixture('kubernetes/thirdparty-connaisseur-01_deployment.json'), prodToken);
    expect(v1beta1.status, v1beta1.text).toBe(400);
    expect(v1beta1.text).toContain('apiVersion');
    // connaisseur's CronJob capture with only its apiVersion made v1: what is left wrong is its `"oldObject": "None"`.
    const none = structuredClone(fixture('kubernetes/thirdparty-connaisseur-04_cronjob.json'));
    setAt(none, ['apiVersion'], 'admission.k8s.io/v1');
    const noneRes = await post('prod', none, prodToken);
    expect(noneRes.status, noneRes.text).toBe(400);
    expect(noneRes.text).toContain('oldObject');
    const garbage = await post('prod', '{"apiVersion": "admission.k8s.io/v1", "kind": ', prodToken);
    expect(garbage.status, garbage.text).toBe(400);
    expect(ErrorBody.parse(garbage.body).error).toBe('BAD_REQUEST');
  });

  it('answers 401 alike to a wrong token and an unknown cluster, before reading the body, and takes reviews up to 4 MiB', async () => {
    await setProd({ unmanagedImages: 'allow' });
    const review = reviewOf('admissionreview-v1-pod-create.json', 'shop');
    const wrong = await post('prod', review, `${prodToken}x`);
    expect(wrong.status).toBe(401);
    const unknown = await post('nowhere', review, prodToken);
    expect(unknown.status).toBe(401);
    expect(unknown.text).toBe(wrong.text);
    const noToken = await svc.call('POST', '/admission/clusters/prod', review, null);
    expect(noToken.status).toBe(401);

    /** The pod review with an annotation of `bytes` characters: a real review is this big with a large object. */
    const padded = (bytes: number) => {
      const big = reviewOf('admissionreview-v1-pod-create.json', 'shop', [[POD_API, image('vault/db:1.0')]]);
      const metadata = nodeAt(big, ['request', 'object', 'metadata']);
      if (!isRecord(metadata)) throw new Error('fixture has no metadata');
      // The fixture has no annotations: the one field this file adds, to make the review large.
      metadata.annotations = { pad: 'x'.repeat(bytes) };
      return big;
    };
    // Over even the route's 4 MiB, so a size check before the token check would answer 413.
    const huge = await post('prod', padded(5 * MIB), 'wrong-token');
    expect(huge.status, huge.text.slice(0, 200)).toBe(401);
    expect(huge.text).toBe(wrong.text);

    const large = padded(2.5 * MIB);
    expect(await admit(large)).toMatchObject({ allowed: true });
    const tooLarge = await post('prod', padded(4 * MIB), prodToken);
    expect(tooLarge.status, tooLarge.text.slice(0, 200)).toBe(413);
  });

  it('registers a cluster once with its token, never shows the token again, rotates it with a grace, refuses bad bodies and forgets the cluster', async () => {
    const review = () => reviewOf('admissionreview-v1-pod-create.json', 'shop', [[POD_API, image('apps/web:v1')]]);
    const status = async (token: string) => (await post('tmp', review(), token)).status;

    const created = await putCluster('tmp', { displayName: 'Temporary', unmanagedImages: 'allow', exemptNamespaces: ['tools'] });
    expect(created.status, created.text).toBe(201);
    const first = Registered.parse(created.body);
    expect(first).toMatchObject({ cluster: 'tmp', mode: 'enforce', webhookUrl: `${PUBLIC_URL}/admission/clusters/tmp` });
    expect(await status(first.admissionToken)).toBe(200);

    const got = await svc.call('GET', '/api/v1/clusters/tmp');
    const list = await svc.call('GET', '/api/v1/clusters');
    expect(got.status).toBe(200);
    expect(list.status).toBe(200);
    for (const text of [got.text, list.text]) {
      expect(text).not.toContain(first.admissionToken);
      expect(text).not.toMatch(/tokenHash|admissionToken/);
    }
    expect(z.object({ items: z.array(ClusterView) }).parse(list.body).items.map((c) => c.cluster)).toEqual(expect.arrayContaining(['prod', 'canary', 'tmp']));

    const again = await putCluster('tmp', { displayName: 'Temporary', unmanagedImages: 'deny', exemptNamespaces: ['tools'] });
    expect(again.status, again.text).toBe(200);
    expect(again.text).not.toContain('admissionToken');
    expect(ClusterView.parse(again.body).unmanagedImages).toBe('deny');
    expect(await status(first.admissionToken)).toBe(200);

    const settled = (await svc.call('GET', '/api/v1/clusters/tmp')).text;
    for (const bad of [
      { unmanagedImages: 'sometimes' },
      { unmanagedImages: 'allow', mode: 'warn' },
      { unmanagedImages: 'allow', colour: 'blue' },
      { unmanagedImages: 'allow', exemptNamespaces: ['tools', 'tools'] },
    ]) {
      const res = await putCluster('tmp', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect((await svc.call('GET', '/api/v1/clusters/tmp')).text).toBe(settled);
    }

    const rotation = await svc.call('POST', '/api/v1/clusters/tmp/admission-token', {});
    expect(rotation.status, rotation.text).toBe(200);
    const second = Rotated.parse(rotation.body).admissionToken;
    tokens.add(second);
    expect(second).not.toBe(first.admissionToken);
    expect(await status(second)).toBe(200);
    expect(await status(first.admissionToken)).toBe(200);

    const cut = await svc.call('POST', '/api/v1/clusters/tmp/admission-token', { graceSeconds: 0 });
    expect(cut.status, cut.text).toBe(200);
    const third = Rotated.parse(cut.body).admissionToken;
    tokens.add(third);
    expect(await status(third)).toBe(200);
    expect(await status(second)).toBe(401);
    expect(await status(first.admissionToken)).toBe(401);

    // tmp denies unmanaged images: the fixture's busybox is refused, and logged.
    expect((await decisions('tmp')).refusals).toBeGreaterThan(0);
    expect((await svc.call('DELETE', '/api/v1/clusters/tmp')).status).toBe(204);
    expect(await status(third)).toBe(401);
    expect((await svc.call('GET', '/api/v1/clusters/tmp')).status).toBe(404);
    // Registered again, it starts afresh: a new token, an empty decision log.
    const reborn = await putCluster('tmp', { unmanagedImages: 'allow' });
    expect(reborn.status, reborn.text).toBe(201);
    expect(await status(third)).toBe(401);
    expect(await decisions('tmp')).toMatchObject({ refusals: 0, items: [] });
  });

  it('hands out the ValidatingWebhookConfiguration and the API server files to paste, with a placeholder for the token', async () => {
    await setProd({ unmanagedImages: 'allow', exemptNamespaces: ['tools', 'monitoring'] });
    const res = await svc.call('GET', '/api/v1/clusters/prod/admission-config');
    expect(res.status, res.text).toBe(200);
    expect(res.text).not.toContain(prodToken);
    const config = Config.parse(res.body);
    const url = `${PUBLIC_URL}/admission/clusters/prod`;
    expect(config.webhookUrl).toBe(url);

    const pasted: unknown = parseYaml(config.validatingWebhookConfiguration.yaml);
    expect(pasted).toEqual(config.validatingWebhookConfiguration.object);
    // The same keys as the docs' example, all the way down.
    expect(keyPaths(pasted).sort()).toEqual(keyPaths(parseYaml(rawFixture('kubernetes/validatingwebhookconfiguration.yaml'))).sort());
    const [webhook] = WebhookConfiguration.parse(pasted).webhooks;
    expect(webhook.clientConfig.url).toBe(url);
    expect(webhook.rules.flatMap((r) => r.resources).sort()).toEqual(
      ['pods', 'pods/ephemeralcontainers', 'replicationcontrollers', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs'].sort(),
    );
    expect(webhook.sideEffects).toBe('None');
    expect(webhook.admissionReviewVersions).toEqual(['v1']);
    expect(webhook.failurePolicy).toBe('Fail');
    expect(webhook.namespaceSelector.matchExpressions).toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'monitoring', 'tools'] }]);

    const ignore = Config.parse((await svc.call('GET', '/api/v1/clusters/prod/admission-config?failurePolicy=Ignore')).body);
    expect(WebhookConfiguration.parse(parseYaml(ignore.validatingWebhookConfiguration.yaml)).webhooks[0].failurePolicy).toBe('Ignore');
    expect((await svc.call('GET', '/api/v1/clusters/prod/admission-config?failurePolicy=Sometimes')).status).toBe(400);

    const admission = AdmissionConfiguration.parse(parseYaml(config.apiServer.admissionConfiguration.yaml));
    expect(admission.plugins[0]).toMatchObject({ name: 'ValidatingAdmissionWebhook', configuration: { kubeConfigFile: config.apiServer.kubeconfig.path } });
    const kubeconfig = Kubeconfig.parse(parseYaml(config.apiServer.kubeconfig.yaml));
    // The API server picks the kubeconfig user by the webhook's host (port 443 left out).
    expect(kubeconfig.users[0]).toEqual({ name: new URL(PUBLIC_URL).hostname, user: { token: config.apiServer.kubeconfig.tokenPlaceholder } });
    for (const token of tokens) expect(config.apiServer.kubeconfig.yaml).not.toContain(token);
  });

  it('never writes an admission token to the service log', () => {
    expect(tokens.size).toBeGreaterThanOrEqual(4);
    const output = svc.output();
    // The log is read at all: refusals are logged.
    expect(output).toContain('admission refused');
    for (const token of tokens) expect(output).not.toContain(token);
  });
});
