import fc from 'fast-check';
import { createModel, type Outcome, type RegOf, type SelectorItem } from './reference-model.ts';

const SPACES = ['s1', 's2', 'library'] as const;
/** Few names, so operations collide: nested paths, and `alpine` vs `library/alpine` (one space, two images). */
const PATHS: Record<RegOf, string[]> = { H: ['s1/app', 's1/web/api', 's2/app', 'library/x'], D: ['s1/app', 's2/db', 'alpine', 'library/alpine'] };
export const WORKSPACES = ['w1', 'w2'] as const;
export const NAMESPACES = ['n1', 'n2', 'n3'] as const;
export const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

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
export const steps = fc.array(step, { minLength: 8, maxLength: 30, size: 'max' });

/** A registry notification, in the shape `applyRegistryChanges` takes. */
export type Change =
  | { action: 'push'; path: string; tag?: string; digest: string; eventTime: number; visibility: 'public' | 'private' }
  | { action: 'delete-tag'; path: string; tag: string; eventTime: number }
  | { action: 'delete-digest'; path: string; digest: string; eventTime: number };

/** The service, driven either through its use cases or over HTTP. */
export type Driver = {
  hosts: Record<RegOf, string>;
  setup(): Promise<void>;
  createSpace(reg: RegOf, space: string, vis: 'public' | 'private'): Promise<Outcome>;
  setVisibility(reg: RegOf, space: string, vis: 'public' | 'private'): Promise<Outcome>;
  deleteSpace(reg: RegOf, space: string): Promise<Outcome>;
  bind(reg: RegOf, space: string, ws: string, bound: boolean): Promise<Outcome>;
  namespace(ns: string, ws: string | null): Promise<Outcome>;
  notify(reg: RegOf, change: Change): Promise<void>;
  /** A bus decision; drivers whose bus cannot be steered ignore it. */
  deliver(pick: number, mode: 'once' | 'duplicate' | 'drop'): Promise<void>;
  /** Everything still in flight reaches the index (the sweep recovers what was dropped). */
  settle(): Promise<void>;
  selector(ns: string): Promise<SelectorItem[]>;
};

/**
 * Applies `steps` to the service (through `driver`) and to the reference model, and settles. Returns the
 * admin outcomes (404/409/400) the two disagree on and what each namespace's selector must now show.
 */
export const runSteps = async (driver: Driver, steps: readonly Step[]) => {
  const model = createModel(driver.hosts);
  await driver.setup();
  for (const w of WORKSPACES) model.addWorkspace(w);
  // Start with n1 in w1 and n2 in w2 (n3 unbound), so private images have someone to be offered to.
  for (const [ns, w] of [['n1', 'w1'], ['n2', 'w2']] as const) {
    await driver.namespace(ns, w);
    model.setNamespace(ns, w);
  }
  const mismatches: string[] = [];
  const expectOutcome = (s: Step, got: Outcome, want: Outcome) => {
    if (got !== want) mismatches.push(`${JSON.stringify(s)}: service ${got}, model ${want}`);
  };
  for (const s of steps) {
    switch (s.k) {
      case 'createSpace':
        expectOutcome(s, await driver.createSpace(s.reg, s.space, s.vis), model.createSpace(s.reg, s.space, s.vis));
        break;
      case 'setVisibility':
        expectOutcome(s, await driver.setVisibility(s.reg, s.space, s.vis), model.setVisibility(s.reg, s.space, s.vis));
        break;
      case 'deleteSpace':
        expectOutcome(s, await driver.deleteSpace(s.reg, s.space), model.deleteSpace(s.reg, s.space));
        break;
      case 'bind':
        expectOutcome(s, await driver.bind(s.reg, s.space, s.ws, s.bound), model.bind(s.reg, s.space, s.ws, s.bound));
        break;
      case 'namespace':
        expectOutcome(s, await driver.namespace(s.ns, s.ws), model.setNamespace(s.ns, s.ws));
        break;
      case 'push': {
        const path = PATHS[s.reg][s.path] ?? '';
        await driver.notify(s.reg, { action: 'push', path, ...(s.tag ? { tag: s.tag } : {}), digest: digest(s.d), eventTime: s.t, visibility: s.vis });
        model.push(s.reg, path, s.tag, digest(s.d), s.t, s.vis);
        break;
      }
      case 'deleteTag': {
        const path = PATHS[s.reg][s.path] ?? '';
        await driver.notify(s.reg, { action: 'delete-tag', path, tag: s.tag, eventTime: s.t });
        model.deleteTag(s.reg, path, s.tag, s.t);
        break;
      }
      case 'deleteDigest': {
        const path = PATHS[s.reg][s.path] ?? '';
        await driver.notify(s.reg, { action: 'delete-digest', path, digest: digest(s.d), eventTime: s.t });
        model.deleteDigest(s.reg, path, digest(s.d), s.t);
        break;
      }
      case 'deliver':
        await driver.deliver(s.pick, s.mode);
        break;
    }
  }
  await driver.settle();
  return { mismatches, namespaces: [...NAMESPACES, 'never-bound'], want: (ns: string) => model.selector(ns) };
};
