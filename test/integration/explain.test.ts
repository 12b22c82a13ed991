import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { z } from 'zod';
import type { Registry } from '../../shared/domain/model.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { BindingList, ImagePage, TagList } from '../../shared/http/views.ts';
import { BlastRadius, previewSpaceChange } from '../../shared/usecases/blast-radius.ts';
import { Explanation, explainImage } from '../../shared/usecases/explain.ts';
import { MyNamespaces, listMyNamespaces } from '../../shared/usecases/me.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { listImages, listTags } from '../../shared/usecases/selector.ts';
import { bindSpace, createSpace, listBindings, unbindSpace, updateSpace } from '../../shared/usecases/spaces.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { ADMIN, ctx, testDeps, T0 } from '../helpers/deps.ts';
import { createTestTable } from '../helpers/table.ts';

const admin: Claims = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
/** The answer as the API documents it: parsing must neither fail nor drop a field. */
const documented = <T extends z.ZodType>(schema: T, value: unknown) => {
  expect(schema.parse(value)).toEqual(value);
  return schema.parse(value);
};

describe('explain, blast radius and my namespaces on DynamoDB Local', () => {
  let t: Awaited<ReturnType<typeof createTestTable>>;
  let env: ReturnType<typeof testDeps>;
  let harbor: Registry;
  let mirror: Registry;

  const push = (path: string, tag: string, at: number, registry = harbor) =>
    applyRegistryChanges(registry, [{ action: 'push', path, tag, digest: digest(at), eventTime: T0 + at }], env.deps, ctx);
  const explain = async (ns: string, image: string) => documented(Explanation, await explainImage('c1', ns, image, ADMIN, env.deps));
  const preview = async (space: string, input: Parameters<typeof previewSpaceChange>[2], registry = harbor) =>
    documented(BlastRadius, await previewSpaceChange(registry.id, space, input, env.deps));
  const sees = async (ns: string) => (await listImages('c1', ns, { limit: 100 }, admin, env.deps)).items.map((i) => i.image);

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store);
    const stored = async (url: string, kind: 'harbor' | 'docker-registry') => {
      const r = await registerRegistry({ name: kind, kind, mode: 'integrated', url }, env.deps, ctx);
      const got = await t.store.registries.get(r.id);
      if (!got) throw new Error('registry not stored');
      return got;
    };
    harbor = await stored('https://harbor.test', 'harbor');
    mirror = await stored('http://mirror.test:5000', 'docker-registry');
    for (const w of ['team-a', 'team-b']) await putWorkspace(w, {}, env.deps, ctx);
    await putNamespace('c1', 'ns-a', { workspaceId: 'team-a' }, env.deps, ctx);
    await putNamespace('c1', 'ns-b', { workspaceId: 'team-b' }, env.deps, ctx);
    await putNamespace('c1', 'ns-free', { workspaceId: null }, env.deps, ctx);
    await createSpace(harbor.id, { name: 'pub', visibility: 'public' }, env.deps, ctx);
    await createSpace(harbor.id, { name: 'sec', visibility: 'private' }, env.deps, ctx);
    await push('pub/web', 'v1', 1000);
    await push('sec/db', 'v1', 1000);
    await push('sec/db', 'v2', 2000);
    await push('sec/gone', 'v1', 1000);
    await applyRegistryChanges(harbor, [{ action: 'delete-tag', path: 'sec/gone', tag: 'v1', eventTime: T0 + 1500 }], env.deps, ctx);
    await push('alpine', '3.20', 1000, mirror);
    await bindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    await env.deliver();
  });
  afterAll(() => t.drop());

  describe('explain', () => {
    it('shows the whole chain for a private image offered through a binding, fresh as of the read', async () => {
      const before = Date.now();
      const e = await explain('ns-a', 'harbor.test/sec/db');
      expect(e.visible).toBe(true);
      expect(e.missingLink).toBeNull();
      expect(e.facts.map((f) => [f.link, f.holds])).toEqual([
        ['registry', true],
        ['space', true],
        ['namespace', true],
        ['grant', true],
        ['repository', true],
        ['index', true],
      ]);
      expect(e.facts.map((f) => f.statement)).toEqual([
        `host harbor.test → registry ${harbor.id} (harbor "harbor")`,
        'space sec private, bound to team-a',
        'namespace c1/ns-a → workspace team-a',
        'space sec bound to team-a',
        `repository db: 2 tags, latest v2 pushed ${new Date(T0 + 2000).toISOString()}`,
        'the selector offers it (index rows: workspace:team-a)',
      ]);
      expect(e.offeredBy).toEqual(['workspace:team-a']);
      expect(e.pendingChanges).toEqual([]);
      expect(Date.parse(e.asOf)).toBeGreaterThanOrEqual(before);
    });

    it('needs no workspace for a public image, even in a namespace it does not know', async () => {
      const e = await explain('nowhere', 'harbor.test/pub/web');
      expect(e.visible).toBe(true);
      expect(e.facts.find((f) => f.link === 'namespace')).toEqual({ link: 'namespace', holds: true, statement: 'namespace c1/nowhere is not registered: it sees public images only' });
      expect(e.facts.find((f) => f.link === 'grant')?.statement).toBe('space pub is public: offered to every namespace');
      expect((await explain('ns-a', 'mirror.test:5000/alpine')).visible).toBe(true);
    });

    it('names the first missing link when a private image is not offered', async () => {
      const other = await explain('ns-b', 'harbor.test/sec/db');
      expect(other.visible).toBe(false);
      expect(other.missingLink).toEqual({ link: 'grant', holds: false, statement: 'space sec is not bound to team-b (bound to team-a)' });
      expect(other.facts.at(-1)).toEqual(other.missingLink);
      expect(other.offeredBy).toEqual([]);

      const unbound = await explain('ns-free', 'harbor.test/sec/db');
      expect(unbound.missingLink).toEqual({
        link: 'namespace',
        holds: false,
        statement: 'namespace c1/ns-free is bound to no workspace: it sees public images only, and space sec is private',
      });
    });

    it('tells an unknown host, space or repository, and a repository whose tags were all deleted', async () => {
      expect((await explain('ns-a', 'quay.test/sec/db')).missingLink?.statement).toBe('no connected registry serves host quay.test');
      expect((await explain('ns-a', 'harbor.test/nope/db')).missingLink?.statement).toBe(`registry ${harbor.id} has no space nope`);
      expect((await explain('ns-a', 'harbor.test/db')).missingLink?.link).toBe('space');
      expect((await explain('ns-a', 'harbor.test/sec/never')).missingLink?.statement).toBe('no tag of sec/never was ever seen (pushed, or found by reconcile)');
      expect((await explain('ns-a', 'harbor.test/sec/gone')).missingLink?.statement).toBe('every tag of sec/gone was deleted');
      await expect(explainImage('c1', 'ns-a', 'no-slash', ADMIN, env.deps)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    });

    it('checks a tag or a digest when the reference names one', async () => {
      expect((await explain('ns-a', 'harbor.test/sec/db:v1')).facts.at(-1)).toEqual({ link: 'tag', holds: true, statement: `tag v1 → ${digest(1000)}` });
      const missing = await explain('ns-a', 'harbor.test/sec/db:v9');
      expect(missing.visible).toBe(false);
      expect(missing.missingLink?.statement).toBe('tag v9 is not present (present: v1, v2)');
      expect((await explain('ns-a', `harbor.test/sec/db@${digest(2000)}`)).facts.at(-1)?.statement).toBe(`${digest(2000)} is tagged v2`);
      expect((await explain('ns-a', `harbor.test/sec/db:v1@${digest(2000)}`)).missingLink?.link).toBe('tag');
      expect((await explain('ns-a', 'mirror.test:5000/alpine:3.20')).reference).toEqual({ tag: '3.20' });
    });

    it('dates the answer to the oldest change the indexer has not applied yet, until it has', async () => {
      await push('sec/cache', 'v1', 3000);
      const pushed = env.bus.events.at(-1);
      const lagging = await explain('ns-a', 'harbor.test/sec/cache');
      expect(lagging.visible).toBe(false);
      expect(lagging.missingLink).toEqual({ link: 'index', holds: false, statement: 'the index has not caught up yet: 1 change waits for the indexer' });
      expect(lagging.pendingChanges).toEqual([{ detailType: 'TagPushed', occurredAt: pushed?.detail.metadata.occurredAt }]);
      expect(lagging.asOf).toBe(pushed?.detail.metadata.occurredAt);
      // Another image's pending change does not age this answer.
      expect((await explain('ns-a', 'harbor.test/sec/db')).pendingChanges).toEqual([]);

      await env.deliver();
      const caughtUp = await explain('ns-a', 'harbor.test/sec/cache');
      expect(caughtUp.visible).toBe(true);
      expect(caughtUp.pendingChanges).toEqual([]);
      expect(Date.parse(caughtUp.asOf)).toBeGreaterThan(Date.parse(lagging.asOf));
    });
  });

  describe('blast radius', () => {
    it('counts what making a public space private would remove, and from which namespaces', async () => {
      const r = await preview('pub', { action: 'make-private', first: 20 });
      expect(r).toMatchObject({
        action: 'make-private',
        before: { visibility: 'public', boundWorkspaces: [] },
        after: { visibility: 'private', boundWorkspaces: [] },
        removedAudiences: ['public'],
        images: { count: 1, first: ['harbor.test/pub/web'] },
        namespaces: { count: 3, first: ['c1/ns-a', 'c1/ns-b', 'c1/ns-free'], alsoUnregistered: true },
      });
      expect((await preview('pub', { action: 'make-private', first: 1 })).namespaces).toEqual({ count: 3, first: ['c1/ns-a'], alsoUnregistered: true });
    });

    it('matches what the change then really removes, and changes nothing by itself', async () => {
      await bindSpace(harbor.id, 'pub', 'team-a', env.deps, ctx);
      await env.deliver();
      const r = await preview('pub', { action: 'make-private', first: 20 });
      expect(r.namespaces.first).toEqual(['c1/ns-b', 'c1/ns-free']);
      expect(env.bus.events).toEqual([]);
      expect((await t.store.spaces.getLive(harbor.id, 'pub'))?.visibility).toBe('public');

      const namespaces = ['ns-a', 'ns-b', 'ns-free'];
      const before = await Promise.all(namespaces.map(sees));
      await updateSpace(harbor.id, 'pub', { visibility: 'private' }, env.deps, ctx);
      await env.deliver();
      const after = await Promise.all(namespaces.map(sees));
      const lost = namespaces.filter((_, i) => before[i]?.includes('harbor.test/pub/web') && !after[i]?.includes('harbor.test/pub/web'));
      expect(lost.map((n) => `c1/${n}`)).toEqual(r.namespaces.first);
      expect(await sees('unregistered')).not.toContain('harbor.test/pub/web');

      await updateSpace(harbor.id, 'pub', { visibility: 'public' }, env.deps, ctx);
      await env.deliver();
    });

    it('unbinding removes a private space from that workspace only, and nothing from a public one', async () => {
      expect(await preview('sec', { action: 'unbind', workspaceId: 'team-a', first: 20 })).toMatchObject({
        removedAudiences: ['workspace:team-a'],
        images: { count: 2, first: ['harbor.test/sec/cache', 'harbor.test/sec/db'] },
        namespaces: { count: 1, first: ['c1/ns-a'], alsoUnregistered: false },
      });
      const publicOne = await preview('pub', { action: 'unbind', workspaceId: 'team-a', first: 20 });
      expect(publicOne.removedAudiences).toEqual(['workspace:team-a']);
      expect(publicOne.namespaces).toEqual({ count: 0, first: [], alsoUnregistered: false });
      expect((await preview('sec', { action: 'unbind', workspaceId: 'team-b', first: 20 })).namespaces.count).toBe(0);
    });

    it('deleting removes the space from everyone who sees it', async () => {
      const r = await preview('sec', { action: 'delete', first: 20 });
      expect(r.after).toBeNull();
      expect(r.images).toEqual({ count: 2, first: ['harbor.test/sec/cache', 'harbor.test/sec/db'] });
      expect(r.namespaces).toEqual({ count: 1, first: ['c1/ns-a'], alsoUnregistered: false });
      expect((await preview('library', { action: 'delete', first: 20 }, mirror)).namespaces).toMatchObject({ count: 3, alsoUnregistered: true });
    });

    it('refuses what the change itself would refuse', async () => {
      await expect(previewSpaceChange(mirror.id, 'library', { action: 'make-private', first: 20 }, env.deps)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await expect(previewSpaceChange(harbor.id, 'sec', { action: 'unbind', workspaceId: 'team-z', first: 20 }, env.deps)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(previewSpaceChange(harbor.id, 'nope', { action: 'delete', first: 20 }, env.deps)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('my namespaces and the documented answers', () => {
    it('lists a reader’s namespaces from the token’s workspaces, and every namespace for an admin', async () => {
      const reader = documented(MyNamespaces, await listMyNamespaces({ sub: 'r', roles: [], workspaces: ['team-a', 'team-x'] }, env.deps));
      expect(reader).toEqual({ admin: false, workspaces: ['team-a', 'team-x'], items: [{ cluster: 'c1', namespace: 'ns-a', workspaceId: 'team-a' }] });
      expect((await listMyNamespaces({ sub: 'r', roles: [], workspaces: [] }, env.deps)).items).toEqual([]);
      const all = await listMyNamespaces(admin, env.deps);
      expect(all.admin).toBe(true);
      expect(all.items.map((n) => n.namespace)).toEqual(['ns-a', 'ns-b', 'ns-free']);
    });

    it('answers the selector in the shapes the OpenAPI document promises', async () => {
      const page = documented(ImagePage, await listImages('c1', 'ns-a', { limit: 2 }, admin, env.deps));
      expect(page.items).toHaveLength(2);
      documented(TagList, await listTags('c1', 'ns-a', 'harbor.test/sec/db', admin, env.deps));
      documented(BindingList, await listBindings(harbor.id, 'sec', env.deps));
    });
  });
});
