import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { IndexRepairRequested } from '../../events/index.ts';
import { RegistrySecrets } from '../../shared/domain/model.ts';
import { httpRegistryApi, type RegistryApi } from '../../shared/registries/registry-api.ts';
import { createLocalSecretStore } from '../../shared/secrets/local-secret-store.ts';
import type { SecretStore } from '../../shared/secrets/secret-store.ts';
import { registerRegistry, updateRegistry } from '../../shared/usecases/registries.ts';
import { listImages, listTags } from '../../shared/usecases/selector.ts';
import { bindSpace, createSpace } from '../../shared/usecases/spaces.ts';
import { sweepPending } from '../../shared/usecases/sweep.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { rotateWebhookSecret } from '../../shared/usecases/webhook-config.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { ADMIN, ctx, T0, testDeps } from '../helpers/deps.ts';
import { fakeDigest, startFakeHarbor } from '../helpers/fake-harbor.ts';
import { createTestTable } from '../helpers/table.ts';

/** A secret store that records what is sealed and removed; `beforeSeal` lets a test hold a seal while another change commits. */
const recordingSecrets = (inner: SecretStore) => {
  const store = {
    sealed: [] as string[],
    removed: [] as string[],
    beforeSeal: undefined as undefined | (() => Promise<void>),
    async seal(name: string, value: string) {
      await store.beforeSeal?.();
      const ref = await inner.seal(name, value);
      store.sealed.push(ref);
      return ref;
    },
    open: (ref: string) => inner.open(ref),
    async remove(ref: string) {
      store.removed.push(ref);
    },
  };
  return store;
};

/** A call held at a gate the test opens; `arrived` says when it got there. */
const gate = () => {
  let open = () => {};
  let reach = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  const arrived = new Promise<void>((resolve) => (reach = resolve));
  return { opened, arrived, open: () => open(), reach: () => reach() };
};

/**
 * Harbor `a` (fake, over HTTP) connected with its admin account, on a fresh table on DynamoDB Local: a public space
 * `shared` and a private `payments` bound to `team-a`, one image in each, namespace `prod/shop` in team-a. Harbor `b`
 * holds the same projects: the same registry under another host, as after a migration.
 */
const world = async () => {
  const t = await createTestTable(inject('dynamoEndpoint'));
  const [a, b] = await Promise.all([startFakeHarbor(), startFakeHarbor()]);
  for (const [name, isPublic] of [['shared', true], ['payments', false]] as const) b.state.addProject(name, { public: isPublic });
  const secrets = recordingSecrets(createLocalSecretStore(randomBytes(32)));
  const env = testDeps(t.store, { registryApi: httpRegistryApi, secrets });
  const { deps, deliver, bus } = env;
  const { id } = await registerRegistry({ name: 'harbor', kind: 'harbor', mode: 'hosted', url: a.url, credentials: a.credentials }, deps, ctx);
  await putWorkspace('team-a', {}, deps, ctx);
  await putNamespace('prod', 'shop', { workspaceId: 'team-a' }, deps, ctx);
  await createSpace(id, { name: 'shared', visibility: 'public' }, deps, ctx);
  await createSpace(id, { name: 'payments', visibility: 'private' }, deps, ctx);
  await bindSpace(id, 'payments', 'team-a', deps, ctx);
  const registry = async () => {
    const r = await t.store.registries.get(id);
    if (!r) throw new Error(`registry ${id} is gone`);
    return r;
  };
  const changes = [
    { action: 'push' as const, path: 'shared/web', tag: '1.0', digest: fakeDigest('web'), eventTime: T0 + 1000 },
    { action: 'push' as const, path: 'payments/api', tag: '2.0', digest: fakeDigest('api'), eventTime: T0 + 2000 },
  ];
  await applyRegistryChanges(await registry(), changes, deps, ctx);
  await deliver();
  bus.take();
  const images = async (ns: string) => (await listImages('prod', ns, { limit: 100 }, ADMIN, deps)).items.map((i) => i.image);
  const opened = async () => RegistrySecrets.parse(JSON.parse(await secrets.open((await registry()).secretRef)));
  const sweep = async () => {
    await sweepPending(deps, -60_000);
    await deliver();
  };
  return {
    t, a, b, secrets, deps, deliver, bus, id, registry, images, opened, sweep,
    hostOf: (url: string) => new URL(url).host,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await t.drop();
    },
  };
};

describe('editing a registry (PATCH) on DynamoDB Local and a fake Harbor over HTTP', () => {
  let w: Awaited<ReturnType<typeof world>>;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    await w?.close();
  });

  it('checks new credentials with Harbor before storing any of the request: refused → 400 with its reason, down → 503, nothing changed', async () => {
    const before = await w.registry();
    const sealed = w.secrets.sealed.length;
    const wrong = { username: w.a.credentials.username, password: 'not-the-password' };
    const refused = updateRegistry(w.id, { name: 'renamed', insecure: true, credentials: wrong }, w.deps, ctx);
    await expect(refused).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { issues: [{ path: 'credentials', message: expect.stringMatching(/^the registry refused them: Harbor refused the credentials/) }] } });
    w.a.setDown(true);
    await expect(updateRegistry(w.id, { name: 'renamed', credentials: w.a.credentials }, w.deps, ctx)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    w.a.setDown(false);
    expect(await w.registry()).toEqual(before);
    expect(w.secrets.sealed).toHaveLength(sealed);
    expect(w.secrets.removed).toEqual([]);
  });

  it('seals accepted credentials anew with the webhook secrets, removes the old item, marks the registry healthy and keeps spaces, bindings and index', async () => {
    const before = await w.registry();
    const secretsBefore = await w.opened();
    const shopBefore = await w.images('shop');
    await w.t.store.registries.setStatus(w.id, 'unauthorized', new Date(Date.now() - 60_000).toISOString(), 'Harbor refused: 401');

    const view = await updateRegistry(w.id, { credentials: w.a.credentials }, w.deps, ctx);
    expect(view).toMatchObject({ id: w.id, host: before.host, status: 'healthy' });
    expect(view).not.toHaveProperty('statusMessage');
    expect(Date.parse(view.statusCheckedAt)).toBeGreaterThan(Date.now() - 10_000);
    const after = await w.registry();
    expect(after.secretRef).not.toBe(before.secretRef);
    expect(await w.opened()).toEqual({ ...secretsBefore, credentials: w.a.credentials });
    expect(w.secrets.removed).toEqual([before.secretRef]);
    expect(after.webhookSecretHash).toBe(before.webhookSecretHash);
    expect((await w.t.store.spaces.list(w.id)).map((s) => s.name).sort()).toEqual(['payments', 'shared']);
    expect((await w.t.store.spaces.bindings(w.id, 'payments')).map((b) => b.workspaceId)).toEqual(['team-a']);
    expect(await w.images('shop')).toEqual(shopBefore);
    expect(w.bus.take().map((e) => e.detailType)).toEqual([]);
  });

  it('two credential edits at once, or an edit and a webhook-secret rotation, never leave a replaced secret item in force', async () => {
    const real: RegistryApi = w.deps.registryApi;
    const held = { username: w.a.credentials.username, password: 'held-in-its-check' };
    const hold = gate();
    w.deps.registryApi = {
      ...real,
      probe: async (target) => {
        if (target.credentials?.password !== held.password) return real.probe(target);
        hold.reach();
        await hold.opened;
        return { status: 'healthy' };
      },
    };
    // A is held in its check while B commits: A then conflicts, and its sealed item goes.
    const start = await w.registry();
    const editA = updateRegistry(w.id, { credentials: held }, w.deps, ctx);
    editA.catch(() => undefined);
    await hold.arrived;
    await updateRegistry(w.id, { credentials: w.a.credentials }, w.deps, ctx);
    const afterB = await w.registry();
    hold.open();
    await expect(editA).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await w.registry()).secretRef).toBe(afterB.secretRef);
    expect((await w.opened()).credentials).toEqual(w.a.credentials);
    const sealedByA = w.secrets.sealed.at(-1);
    expect(w.secrets.removed).toEqual([start.secretRef, sealedByA]);

    // A rotation held in its seal while an edit commits: the rotation conflicts (it would bring back the old item).
    const sealing = gate();
    w.secrets.beforeSeal = async () => {
      w.secrets.beforeSeal = undefined;
      sealing.reach();
      await sealing.opened;
    };
    const rotation = rotateWebhookSecret(w.id, {}, w.deps, ctx);
    rotation.catch(() => undefined);
    await sealing.arrived;
    const edited = await updateRegistry(w.id, { credentials: w.a.credentials }, w.deps, ctx);
    const afterEdit = await w.registry();
    sealing.open();
    await expect(rotation).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(edited.status).toBe('healthy');
    expect(await w.registry()).toMatchObject({ secretRef: afterEdit.secretRef, webhookSecretHash: afterB.webhookSecretHash });

    // An edit held in its check while a rotation commits: the edit conflicts (it would bring back the old webhook secret).
    const hold2 = gate();
    w.deps.registryApi = {
      ...real,
      probe: async (target) => {
        hold2.reach();
        await hold2.opened;
        return real.probe(target);
      },
    };
    const editC = updateRegistry(w.id, { credentials: w.a.credentials }, w.deps, ctx);
    editC.catch(() => undefined);
    await hold2.arrived;
    w.deps.registryApi = real;
    const rotated = await rotateWebhookSecret(w.id, { graceSeconds: 0 }, w.deps, ctx);
    hold2.open();
    await expect(editC).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await w.opened()).webhookSecret).toBe(rotated.webhook.secret);
    expect((await w.opened()).credentials).toEqual(w.a.credentials);
  });

  it('stores a url on the same host as given; another host needs confirmHostChange and a host no other registry serves', async () => {
    const before = await w.registry();
    const samePath = await updateRegistry(w.id, { url: `${w.a.url}/mirror/` }, w.deps, ctx);
    expect(samePath).toMatchObject({ url: `${w.a.url}/mirror`, host: before.host, status: before.status, statusCheckedAt: before.statusCheckedAt });
    expect(w.bus.take().map((e) => e.detailType)).not.toContain(IndexRepairRequested.detailType);
    await updateRegistry(w.id, { url: w.a.url }, w.deps, ctx);

    const unconfirmed = updateRegistry(w.id, { name: 'moved', url: w.b.url }, w.deps, ctx);
    await expect(unconfirmed).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { issues: [{ path: 'url', message: expect.stringContaining('confirmHostChange') }] } });
    const denied = updateRegistry(w.id, { url: 'http://169.254.169.254/', confirmHostChange: true }, w.deps, ctx);
    await expect(denied).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { issues: [{ path: 'url' }] } });
    const other = await registerRegistry({ name: 'other', kind: 'harbor', mode: 'integrated', url: w.b.url }, w.deps, ctx);
    const taken = updateRegistry(w.id, { url: w.b.url, confirmHostChange: true }, w.deps, ctx);
    await expect(taken).rejects.toMatchObject({ code: 'CONFLICT', details: { registryId: other.id } });
    expect(await w.registry()).toMatchObject({ name: 'harbor', url: w.a.url, host: before.host });
  });

  it('refuses a host change Harbor there does not accept the stored credentials for, and pull credentials for a Harbor, before storing anything', async () => {
    const before = await w.registry();
    const c = await startFakeHarbor({ password: 'another-admin-password' });
    try {
      const refused = updateRegistry(w.id, { url: c.url, confirmHostChange: true }, w.deps, ctx);
      await expect(refused).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { issues: [{ path: 'url', message: expect.stringMatching(/^the registry refused the credentials/) }] } });
    } finally {
      await c.close();
    }
    const pull = updateRegistry(w.id, { name: 'renamed', insecure: true, pullCredentials: { username: 'puller', password: 'p' } }, w.deps, ctx);
    await expect(pull).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { issues: [{ path: 'pullCredentials' }] } });
    expect(await w.registry()).toEqual(before);
    expect(await updateRegistry(w.id, { name: 'renamed', insecure: true }, w.deps, ctx)).toMatchObject({ name: 'renamed', insecure: true, host: before.host });
  });

  it('a confirmed host change re-derives every image reference, registers the webhook policies there, and survives a lost repair event', async () => {
    const [hostA, hostB] = [w.hostOf(w.a.url), w.hostOf(w.b.url)];
    expect(await w.images('shop')).toEqual([`${hostA}/payments/api`, `${hostA}/shared/web`]);

    const moved = await updateRegistry(w.id, { url: w.b.url, confirmHostChange: true }, w.deps, ctx);
    expect(moved).toMatchObject({ id: w.id, url: w.b.url, host: hostB, status: 'healthy', webhookCoverage: { covered: 2, uncovered: [] } });
    for (const project of ['shared', 'payments']) {
      const policies = w.b.state.policiesOf(w.b.state.findProject(project, true)?.projectId ?? -1);
      expect(policies.map((p) => p.name)).toEqual([`platform-image-registry-${w.id}`]);
    }
    await w.deliver();
    expect(await w.images('shop')).toEqual([`${hostB}/payments/api`, `${hostB}/shared/web`]);
    expect(await w.images('nobody')).toEqual([`${hostB}/shared/web`]);
    expect((await listTags('prod', 'shop', `${hostB}/payments/api`, ADMIN, w.deps)).items).toMatchObject([{ tag: '2.0' }]);
    await expect(listTags('prod', 'shop', `${hostA}/payments/api`, ADMIN, w.deps)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await w.t.store.pending.oldest()).toBeUndefined();

    // Back, with the repair's publish lost: the mark written with the change has the sweep re-emit it.
    w.bus.failNext = true;
    await updateRegistry(w.id, { url: w.a.url, confirmHostChange: true }, w.deps, ctx);
    expect(w.bus.events).toEqual([]);
    expect(await w.t.store.pending.oldest()).toMatchObject({ detailType: IndexRepairRequested.detailType });
    await w.sweep();
    expect(await w.images('shop')).toEqual([`${hostA}/payments/api`, `${hostA}/shared/web`]);
    expect(await w.t.store.pending.oldest()).toBeUndefined();
    expect((await w.t.store.spaces.bindings(w.id, 'payments')).map((b) => b.workspaceId)).toEqual(['team-a']);
  });
});
