import fc from 'fast-check';
import { DomainError } from '../../shared/errors.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { handleIndexEvent } from '../../shared/index/indexer.ts';
import type { Store } from '../../shared/store/index.ts';
import type { Registry } from '../../shared/domain/model.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { listImages } from '../../shared/usecases/selector.ts';
import { bindSpace, createSpace, deleteSpace, unbindSpace, updateSpace } from '../../shared/usecases/spaces.ts';
import { sweepPending } from '../../shared/usecases/sweep.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { createModel, type Outcome, type RegOf, type SelectorItem } from './reference-model.ts';
import { ctx, testDeps } from './deps.ts';

const SPACES = ['s1', 's2', 'library'] as const;
/** Few names, so operations collide: nested paths, and `alpine` vs `library/alpine` (one space, two images). */
const PATHS: Record<RegOf, string[]> = { H: ['s1/app', 's1/web/api', 's2/app', 'library/x'], D: ['s1/app', 's2/db', 'alpine', 'library/alpine'] };
const WORKSPACES = ['w1', 'w2'] as const;
const NAMESPACES = ['n1', 'n2', 'n3'] as const;
const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

const reg = fc.constantFrom<RegOf>('H', 'H', 'H', 'D');
const vis = fc.constantFrom<'public' | 'private'>('public', 'private');
const space = fc.constantFrom(...SPACES, 's1', 's2');
const time = fc.integer({ min: 1, max: 6 });

/** One step: an admin operation, a registry notification, or a bus delivery decision. */
export const step = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('createSpace' as const), reg, space, vis }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('setVisibility' as const), reg, space, vis }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteSpace' as const), reg, space }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('bind' as const), reg, space, ws: fc.constantFrom(...WORKSPACES), bound: fc.constantFrom(true, true, false) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('namespace' as const), ns: fc.constantFrom(...NAMESPACES), ws: fc.constantFrom<string | null>(...WORKSPACES, null) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('push' as const), reg, path: fc.nat(3), tag: fc.constantFrom('t1', 't2', 't2', undefined), d: fc.integer({ min: 1, max: 2 }), t: time, vis }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('deleteTag' as const), reg, path: fc.nat(3), tag: fc.constantFrom('t1', 't2'), t: time }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteDigest' as const), reg, path: fc.nat(3), d: fc.integer({ min: 1, max: 2 }), t: time }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('deliver' as const), pick: fc.nat(), mode: fc.constantFrom('once', 'once', 'duplicate', 'drop') }) },
);
export type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

const admin: Claims = { sub: 'model', roles: ['platform-admin'], workspaces: [] };

/**
 * Applies `steps` to the service's use cases (on `store`) and to the reference model; events sit in a pool
 * the steps deliver once, twice, or never, in any order. Then the sweep recovers what was dropped. Returns
 * each namespace's selector from both sides.
 */
export const runSteps = async (store: Store, steps: readonly Step[]) => {
  const env = testDeps(store);
  const { deps, bus } = env;
  const hosts = { H: 'harbor.test', D: 'registry.test:5000' };
  const model = createModel(hosts);
  const registries = {} as Record<RegOf, Registry>;
  for (const [key, kind] of [['H', 'harbor'], ['D', 'docker-registry']] as const) {
    const created = await registerRegistry({ name: key, kind, mode: 'hosted', url: `https://${hosts[key]}` }, deps, ctx);
    const stored = await store.registries.get(created.id);
    if (!stored) throw new Error('registry not stored');
    registries[key] = stored;
  }
  for (const w of WORKSPACES) {
    await putWorkspace(w, {}, deps);
    model.addWorkspace(w);
  }
  // Start with n1 in w1 and n2 in w2 (n3 unbound), so private images have someone to be offered to.
  for (const [ns, w] of [['n1', 'w1'], ['n2', 'w2']] as const) {
    await putNamespace('c', ns, { workspaceId: w }, deps, ctx);
    model.setNamespace(ns, w);
  }
  const pool = bus.take();
  const outcome = async (run: () => Promise<unknown>): Promise<Outcome> => {
    try {
      await run();
      return 'ok';
    } catch (error) {
      if (error instanceof DomainError && (error.code === 'NOT_FOUND' || error.code === 'CONFLICT' || error.code === 'BAD_REQUEST')) return error.code;
      throw error;
    }
  };
  const mismatches: string[] = [];
  const expectOutcome = (s: Step, got: Outcome, want: Outcome) => {
    if (got !== want) mismatches.push(`${JSON.stringify(s)}: service ${got}, model ${want}`);
  };

  for (const s of steps) {
    switch (s.k) {
      case 'createSpace':
        expectOutcome(s, await outcome(() => createSpace(registries[s.reg].id, { name: s.space, visibility: s.vis }, deps, ctx)), model.createSpace(s.reg, s.space, s.vis));
        break;
      case 'setVisibility':
        expectOutcome(s, await outcome(() => updateSpace(registries[s.reg].id, s.space, { visibility: s.vis }, deps, ctx)), model.setVisibility(s.reg, s.space, s.vis));
        break;
      case 'deleteSpace':
        expectOutcome(s, await outcome(() => deleteSpace(registries[s.reg].id, s.space, deps, ctx)), model.deleteSpace(s.reg, s.space));
        break;
      case 'bind': {
        const run = s.bound ? bindSpace : unbindSpace;
        expectOutcome(s, await outcome(() => run(registries[s.reg].id, s.space, s.ws, deps, ctx)), model.bind(s.reg, s.space, s.ws, s.bound));
        break;
      }
      case 'namespace':
        expectOutcome(s, await outcome(() => putNamespace('c', s.ns, { workspaceId: s.ws }, deps, ctx)), model.setNamespace(s.ns, s.ws));
        break;
      case 'push': {
        const path = PATHS[s.reg][s.path] ?? '';
        await applyRegistryChanges(registries[s.reg], [{ action: 'push', path, ...(s.tag ? { tag: s.tag } : {}), digest: digest(s.d), eventTime: s.t, visibility: s.vis }], deps, ctx);
        model.push(s.reg, path, s.tag, digest(s.d), s.t, s.vis);
        break;
      }
      case 'deleteTag': {
        const path = PATHS[s.reg][s.path] ?? '';
        await applyRegistryChanges(registries[s.reg], [{ action: 'delete-tag', path, tag: s.tag, eventTime: s.t }], deps, ctx);
        model.deleteTag(s.reg, path, s.tag, s.t);
        break;
      }
      case 'deleteDigest': {
        const path = PATHS[s.reg][s.path] ?? '';
        await applyRegistryChanges(registries[s.reg], [{ action: 'delete-digest', path, digest: digest(s.d), eventTime: s.t }], deps, ctx);
        model.deleteDigest(s.reg, path, digest(s.d), s.t);
        break;
      }
      case 'deliver': {
        if (!pool.length) break;
        const i = s.pick % pool.length;
        const event = pool[i];
        if (!event) break;
        if (s.mode !== 'duplicate') pool.splice(i, 1);
        if (s.mode !== 'drop') await handleIndexEvent(event, deps);
        break;
      }
    }
    pool.push(...bus.take());
  }
  // What a real bus would still deliver, then what the sweep recovers of the dropped ones.
  for (let event = pool.shift(); event; event = pool.shift()) await handleIndexEvent(event, deps);
  for (let round = 0; round < 5; round++) {
    const { reemitted } = await sweepPending(deps, -60_000);
    if (!reemitted) break;
    await env.deliver();
  }
  const selectors = [];
  for (const ns of [...NAMESPACES, 'never-bound']) {
    const got: SelectorItem[] = (await listImages('c', ns, { limit: 100 }, admin, deps)).items.map((i) => ({
      image: i.image,
      tagCount: i.tagCount,
      latestTag: i.latestTag.tag,
      grantedBy: i.grantedBy,
    }));
    selectors.push({ ns, got, want: model.selector(ns) });
  }
  return { selectors, mismatches };
};
