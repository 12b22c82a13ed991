import fc from 'fast-check';
import { splitPath } from '../../shared/domain/model.ts';
import { mapLimit } from '../../shared/registries/pool.ts';
import { createModel, type Outcome, type RegOf, type SelectorItem } from './reference-model.ts';

const SPACES = ['s1', 's2', 'library'] as const;
/** Few names, so operations collide: nested paths, and `alpine` vs `library/alpine` (one space, two images). */
const PATHS: Record<RegOf, string[]> = {
  H: ['s1/app', 's1/web/api', 's2/app', 'library/x'],
  D: ['s1/app', 's2/db', 'alpine', 'library/alpine'],
  O: ['s1/app', 's2/db', 'alpine', 'library/alpine'],
};
export const WORKSPACES = ['w1', 'w2'] as const;
export const NAMESPACES = ['n1', 'n2', 'n3'] as const;
export const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

const reg = fc.constantFrom<RegOf>('H', 'H', 'H', 'D', 'O');
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
  // `vis`: the visibility the payload claims (Harbor's repo_type); it must never decide who sees a new space.
  { weight: 6, arbitrary: fc.record({ k: fc.constant('push' as const), reg, path: fc.nat(3), tag: fc.constantFrom('t1', 't2', 't2', undefined), d: fc.integer({ min: 1, max: 2 }), t: time, vis }) },
  // A push whose event time is out of bounds: refused whole (400), nothing stored.
  { weight: 1, arbitrary: fc.record({ k: fc.constant('badTime' as const), reg, path: fc.nat(3), tag: fc.constantFrom('t1', 't2'), d: fc.integer({ min: 1, max: 2 }), when: fc.constantFrom('future', 'before-2000', 'huge') }) },
  // A Harbor push signed with another project's secret: refused as a wrong secret (401), nothing stored.
  { weight: 1, arbitrary: fc.record({ k: fc.constant('forge' as const), path: fc.nat(3), tag: fc.constantFrom('t1', 't2'), d: fc.integer({ min: 1, max: 2 }), t: time, signer: space }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('deleteTag' as const), reg, path: fc.nat(3), tag: fc.constantFrom('t1', 't2'), t: time }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteDigest' as const), reg, path: fc.nat(3), d: fc.integer({ min: 1, max: 2 }), t: time }) },
  // `burst`: how many events the step hands over at once (a concurrent driver hands them to the indexer as one batch);
  // `stall`: delivered once, but (on a concurrent driver) paused for long at store call `stallAt`.
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('deliver' as const),
      pick: fc.nat(),
      mode: fc.constantFrom('once', 'once', 'duplicate', 'drop', 'stall', 'stall'),
      burst: fc.integer({ min: 1, max: 6 }),
      stallAt: fc.integer({ min: 1, max: 12 }),
    }),
  },
);
export type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;
export const steps = fc.array(step, { minLength: 8, maxLength: 30, size: 'max' });

/**
 * A registry notification. `eventTime`: seconds after the driver's base (a few steps apart, within the allowed
 * skew), or `absoluteSeconds` for a time out of bounds; `visibility`: what the payload claims.
 */
export type Change =
  | { action: 'push'; path: string; tag?: string; digest: string; eventTime: number; visibility: 'public' | 'private'; absoluteSeconds?: number }
  | { action: 'delete-tag'; path: string; tag: string; eventTime: number }
  | { action: 'delete-digest'; path: string; digest: string; eventTime: number };

/** Out-of-bounds event times, in seconds: far ahead of the clock, before 2000, and beyond what a date can hold. */
const outOfBounds = (when: 'future' | 'before-2000' | 'huge') =>
  when === 'future' ? Math.floor(Date.now() / 1000) + 10_000 : when === 'before-2000' ? Date.UTC(1999, 11, 31) / 1000 : 8_700_000_000_000;

/** The service, driven either through its use cases or over HTTP. */
export type Driver = {
  hosts: Record<RegOf, string>;
  setup(): Promise<void>;
  createSpace(reg: RegOf, space: string, vis: 'public' | 'private'): Promise<Outcome>;
  setVisibility(reg: RegOf, space: string, vis: 'public' | 'private'): Promise<Outcome>;
  deleteSpace(reg: RegOf, space: string): Promise<Outcome>;
  bind(reg: RegOf, space: string, ws: string, bound: boolean): Promise<Outcome>;
  namespace(ns: string, ws: string | null): Promise<Outcome>;
  /** Sends the change as the registry would (Harbor: signed with the project `signAs`, default its own); the HTTP status. */
  notify(reg: RegOf, change: Change, signAs?: string): Promise<number>;
  /** A bus decision for `burst` events from the `pick`th newest on; drivers whose bus cannot be steered ignore it. */
  deliver(decision: Extract<Step, { k: 'deliver' }>): Promise<void>;
  /** Everything still in flight reaches the index (the sweep recovers what was dropped). */
  settle(): Promise<void>;
  /** The namespace's selector; with `q`, its search (`?q=`). */
  selector(ns: string, q?: string): Promise<SelectorItem[]>;
  /** Whether the Docker Registry was registered with pull credentials (then every pull secret names it). */
  dockerPullCredentials: boolean;
  /** The projects workspace `w`'s robot holds in Harbor (sorted), or undefined when Harbor has no robot for it. */
  robotProjects(w: string): Promise<string[] | undefined>;
  /** The hosts of namespace `ns`'s pull secret (`.dockerconfigjson` auths), sorted. */
  pullHosts(ns: string): Promise<string[]>;
  /** Whether the cluster's admission webhook allows a Pod CREATE in `ns` whose one container runs `image`. */
  admitted(ns: string, image: string): Promise<boolean>;
};

/** On no connected registry: the cluster refuses it (`unmanagedImages: deny`), whatever the namespace. */
export const UNMANAGED_IMAGE = 'docker.io/library/nginx';

/**
 * Every repository (`host/path`, what the model decides on) of PATHS on both hosts, with the ways a workload may spell
 * it: admission ignores tag and digest, and reads a host case-insensitively (so Harbor's also in upper case).
 */
export const admissionRepos = (hosts: Record<RegOf, string>) =>
  (['H', 'D', 'O'] as const).flatMap((r) =>
    PATHS[r].map((path) => {
      const repo = `${hosts[r]}/${path}`;
      return { repo, spellings: [repo, `${repo}:t1`, `${repo}@${digest(1)}`, ...(r === 'H' ? [`${hosts[r].toUpperCase()}/${path}`] : [])] };
    }),
  );

/**
 * The reviews to send: every (namespace, repository), plus the unmanaged image in each namespace (`repo` ''). With
 * `rotate`, each pair gets one spelling, shifted along the namespaces (so every spelling of every repository is sent
 * in every sequence) and by `rotate` (so, over sequences, in every namespace); without it, every spelling.
 */
export const admissionChecks = (hosts: Record<RegOf, string>, namespaces: readonly string[], rotate?: number) =>
  namespaces.flatMap((ns, n) => [
    ...admissionRepos(hosts).flatMap(({ repo, spellings }, r) =>
      (rotate === undefined ? spellings : [spellings[(n + r + rotate) % spellings.length] ?? repo]).map((image) => ({ ns, image, repo })),
    ),
    { ns, image: UNMANAGED_IMAGE, repo: '' },
  ]);

/** Where the driver's admission answers differ from `selectable` (the model) over `admissionChecks`: none expected. */
export const admissionDivergences = async (driver: Driver, namespaces: readonly string[], selectable: (ns: string, repo: string) => boolean, rotate?: number) => {
  // Reviews only read (a refusal's decision-log entry changes no decision), so a few at a time, as an API server sends them.
  const answers = await mapLimit(admissionChecks(driver.hosts, namespaces, rotate), 8, async ({ ns, image, repo }) => {
    const want = repo !== '' && selectable(ns, repo);
    const got = await driver.admitted(ns, image);
    return got === want ? [] : [`${ns} ${image}: admission ${got ? 'allowed' : 'refused'}, model ${want ? 'selectable' : 'not selectable'}`];
  });
  return answers.flat();
};

/** The admin steps that can take an image from a namespace: visibility, deletion, unbinding, moving the namespace. */
const REVOKING = new Set<Step['k']>(['setVisibility', 'deleteSpace', 'bind', 'namespace']);

/**
 * Applies `steps` to the service (through `driver`) and to the reference model, and settles. Returns the
 * admin outcomes (404/409/400) the two disagree on, the revoked images admitted right after their revocation, and
 * what each namespace's selector (and so its admission) must now show.
 */
export const runSteps = async (driver: Driver, steps: readonly Step[]) => {
  const model = createModel(driver.hosts);
  const namespaces = [...NAMESPACES, 'never-bound'];
  // Only repositories ever pushed to can have an index row, stale or not.
  const allowedPairs = () =>
    namespaces.flatMap((ns) => model.pushedRepos().flatMap(({ reg, path }) => (model.ruleAllows(ns, reg, path) ? [{ ns, image: `${driver.hosts[reg]}/${path}` }] : [])));
  const revocations: string[] = [];
  /**
   * Right after an admin step, before its events reach the index: every image the step took from a namespace is
   * refused already, since admission confirms the index row against the truth.
   */
  const expectRevoked = async (s: Step, before: { ns: string; image: string }[]) => {
    const after = new Set(allowedPairs().map((p) => `${p.ns} ${p.image}`));
    const revoked = before.filter((p) => !after.has(`${p.ns} ${p.image}`));
    const admitted = await mapLimit(revoked, 8, async ({ ns, image }) => ((await driver.admitted(ns, image)) ? [`${ns} ${image}: admitted right after ${JSON.stringify(s)} revoked it`] : []));
    revocations.push(...admitted.flat());
  };
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
  const expectStatus = (s: Step, got: number, want: number) => {
    if (got !== want) mismatches.push(`${JSON.stringify(s)}: webhook answered ${got}, expected ${want}`);
  };
  for (const s of steps) {
    const before = REVOKING.has(s.k) ? allowedPairs() : undefined;
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
        // Docker Registry notifies no tagless push.
        if (s.reg !== 'H' && !s.tag) break;
        const path = PATHS[s.reg][s.path] ?? '';
        expectStatus(s, await driver.notify(s.reg, { action: 'push', path, ...(s.tag ? { tag: s.tag } : {}), digest: digest(s.d), eventTime: s.t, visibility: s.vis }), 200);
        model.push(s.reg, path, s.tag, digest(s.d), s.t);
        break;
      }
      case 'badTime': {
        const path = PATHS[s.reg][s.path] ?? '';
        const change = { action: 'push' as const, path, tag: s.tag, digest: digest(s.d), eventTime: 1, visibility: 'public' as const, absoluteSeconds: outOfBounds(s.when) };
        expectStatus(s, await driver.notify(s.reg, change), 400);
        break;
      }
      case 'forge': {
        const path = PATHS.H[s.path] ?? '';
        if (splitPath(path).space === s.signer) break;
        expectStatus(s, await driver.notify('H', { action: 'push', path, tag: s.tag, digest: digest(s.d), eventTime: s.t, visibility: 'public' }, s.signer), 401);
        break;
      }
      case 'deleteTag': {
        const path = PATHS[s.reg][s.path] ?? '';
        expectStatus(s, await driver.notify(s.reg, { action: 'delete-tag', path, tag: s.tag, eventTime: s.t }), 200);
        model.deleteTag(s.reg, path, s.tag, s.t);
        break;
      }
      case 'deleteDigest': {
        const path = PATHS[s.reg][s.path] ?? '';
        expectStatus(s, await driver.notify(s.reg, { action: 'delete-digest', path, digest: digest(s.d), eventTime: s.t }), 200);
        model.deleteDigest(s.reg, path, digest(s.d), s.t);
        break;
      }
      case 'deliver':
        await driver.deliver(s);
        break;
    }
    if (before) await expectRevoked(s, before);
  }
  await driver.settle();
  return {
    mismatches,
    /** Revoked images admitted before the index caught up (see `expectRevoked`): none expected. */
    revocations,
    namespaces,
    want: (ns: string) => model.selector(ns),
    /** Pull access: each workspace's robot holds exactly its bound private projects (none: no robot). */
    wantRobot: (w: string) => {
      const projects = model.robotProjects(w);
      return projects.length ? projects : undefined;
    },
    wantPullHosts: (ns: string) => model.pullHosts(ns, driver.dockerPullCredentials),
    /** Admission: `repo` (`host/path`) may run in `ns` iff the model's selector offers it. */
    selectable: (ns: string, repo: string) => model.selectable(ns, repo),
  };
};
