import { PLATFORM_ADMIN, type Caller } from '../../shared/domain/caller.ts';
import { randomBytes } from 'node:crypto';
import type { BusEvent } from '../../events/contract.ts';
import type { Deps } from '../../shared/deps.ts';
import { DEFAULT_AUDIT_TTL_DAYS } from '../../shared/domain/audit.ts';
import { DEFAULT_PULL_ACCESS } from '../../shared/domain/pull-access.ts';
import { DEFAULT_CLOCK_SKEW_MS } from '../../shared/domain/time.ts';
import { handleIndexEvent, handleIndexEvents } from '../../shared/index/indexer.ts';
import { pullPermissions, RegistryCallError, type HarborRobot, type RegistryApi } from '../../shared/registries/registry-api.ts';
import { handlePullAccessEvent } from '../../shared/usecases/pull-access.ts';
import { INDEXER_FN, RULES } from '../../shared/topology.ts';
import { createLocalSecretStore } from '../../shared/secrets/local-secret-store.ts';
import type { Store } from '../../shared/store/index.ts';

/** A bus that keeps what is published, so a test decides when (and whether) the indexer sees it. */
export const collectingBus = () => {
  const events: BusEvent[] = [];
  return {
    events,
    failNext: false,
    async put(batch: readonly BusEvent[]) {
      if (this.failNext) {
        this.failNext = false;
        throw new Error('bus down');
      }
      events.push(...batch);
    },
    /** Takes every collected event out of the bus. */
    take() {
      return events.splice(0, events.length);
    },
  };
};

/**
 * Harbor's robots in memory, as `RegistryApi` speaks them (names `robot$<name>`, a fresh secret per create and
 * refresh, expiry from creation + duration). The HTTP client is tested against the fake Harbor server.
 */
export const memoryRobots = () => {
  const robots = new Map<number, { robot: HarborRobot; secret: string }>();
  let next = 0;
  const secret = () => `S${randomBytes(12).toString('base64url')}a1`;
  const expiry = (creationTime: string, days: number) => (days === -1 ? -1 : Math.floor(Date.parse(creationTime) / 1000) + days * 86_400);
  const api: Pick<RegistryApi, 'listRobots' | 'getRobot' | 'createRobot' | 'updateRobot' | 'refreshRobotSecret' | 'deleteRobot'> = {
    listRobots: async (_t, prefix) => [...robots.values()].map((r) => structuredClone(r.robot)).filter((r) => r.name.startsWith(`robot$${prefix}`)),
    getRobot: async (_t, id) => structuredClone(robots.get(id)?.robot),
    async createRobot(_t, spec) {
      if ([...robots.values()].some((r) => r.robot.name === `robot$${spec.name}`)) throw new RegistryCallError('conflict', 'Harbor refused: 409 CONFLICT: robot name exists', 409);
      const creationTime = new Date().toISOString();
      const robot: HarborRobot = { id: ++next, name: `robot$${spec.name}`, level: 'system', disabled: false, description: spec.description, duration: spec.durationDays, creationTime, expiresAt: expiry(creationTime, spec.durationDays), permissions: pullPermissions(spec.projects) };
      const s = secret();
      robots.set(robot.id, { robot, secret: s });
      return { id: robot.id, name: robot.name, secret: s, expiresAt: robot.expiresAt };
    },
    async updateRobot(_t, robot, spec) {
      const held = robots.get(robot.id);
      if (!held) throw new RegistryCallError('not-found', 'Harbor refused: 404 NOT_FOUND: robot not found', 404);
      held.robot = { ...held.robot, description: spec.description, duration: spec.durationDays, disabled: false, permissions: pullPermissions(spec.projects), expiresAt: expiry(held.robot.creationTime ?? '', spec.durationDays) };
    },
    async refreshRobotSecret(_t, id) {
      const held = robots.get(id);
      if (!held) throw new RegistryCallError('not-found', 'Harbor refused: 404 NOT_FOUND: robot not found', 404);
      held.secret = secret();
      return held.secret;
    },
    deleteRobot: async (_t, id) => void robots.delete(id),
  };
  /** The projects robot `name` (short) may pull, or undefined when there is none. */
  const projectsOf = (name: string) => {
    const held = [...robots.values()].find((r) => r.robot.name === `robot$${name}`);
    return held && held.robot.permissions.map((p) => p.namespace).sort();
  };
  return { robots, api, projectsOf };
};

/** Harbor that always agrees (for use-case tests; the HTTP Harbor client is tested against the fake server). */
export const agreeableRegistryApi = (): RegistryApi & { projects: Map<string, boolean>; robots: ReturnType<typeof memoryRobots> } => {
  const projects = new Map<string, boolean>();
  const robots = memoryRobots();
  return {
    projects,
    robots,
    ...robots.api,
    checkUrl: async () => undefined,
    probe: async () => ({ status: 'healthy' }),
    serverTime: async () => undefined,
    manifestDetails: async () => undefined,
    createProject: async (_t, name, isPublic) => {
      const existed = projects.has(name);
      projects.set(name, isPublic);
      return existed ? 'existed' : 'created';
    },
    setProjectPublic: async (_t, name, isPublic) => void projects.set(name, isPublic),
    deleteProject: async (_t, name) => void projects.delete(name),
    // Projects only: a use-case test that reconciles brings its own listing.
    list: async () => ({
      startedAt: Date.now(),
      spaces: [...projects].map(([name, isPublic]) => ({ name, visibility: isPublic ? ('public' as const) : ('private' as const), repositories: [] })),
      unreadable: [],
      unreadableRepositories: [],
      skipped: [],
    }),
    projectExists: async (_t, name) => projects.has(name),
    ensureWebhookPolicy: async () => 'unchanged',
  };
};

/**
 * The bus consumers by function name; `consume` hands an event to each one whose rule takes it, in rule order
 * (`only`: to those of these functions alone).
 */
const CONSUMERS: Record<string, (event: BusEvent, deps: Deps) => Promise<unknown>> = {
  'index-changes': handleIndexEvent,
  'sync-pull-access': handlePullAccessEvent,
};
export const consume = async (event: BusEvent, deps: Deps, only?: (fn: string) => boolean) => {
  for (const rule of RULES)
    if (rule.detailTypes.includes(event.detailType) && CONSUMERS[rule.fn] && (!only || only(rule.fn))) await CONSUMERS[rule.fn]?.(event, deps);
};

/**
 * `events` delivered as the bus delivers them: to a `batchSize` rule's consumer as one batch (the indexer:
 * `handleIndexEvents`; a failed event throws), to every other one event by event, in order.
 */
export const consumeBatch = async (events: readonly BusEvent[], deps: Deps, only?: (fn: string) => boolean) => {
  for (const rule of RULES) {
    const taken = events.filter((e) => rule.detailTypes.includes(e.detailType));
    if (!taken.length || !CONSUMERS[rule.fn] || (only && !only(rule.fn))) continue;
    if (rule.batchSize && rule.fn === INDEXER_FN) {
      const failed = await handleIndexEvents(taken.map((event) => ({ itemId: event.detail.metadata.id, event })), deps);
      if (failed.length) throw new Error(`${failed.length} of ${taken.length} events failed: ${failed.join(', ')}`);
    } else for (const event of taken) await CONSUMERS[rule.fn]?.(event, deps);
  }
};

export const testDeps = (store: Store, overrides: Partial<Deps> = {}) => {
  const bus = collectingBus();
  const deps: Deps = {
    store,
    bus,
    secrets: createLocalSecretStore(randomBytes(32)),
    registryApi: agreeableRegistryApi(),
    clock: () => new Date(),
    clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
    pullAccess: DEFAULT_PULL_ACCESS,
    auditTtlDays: DEFAULT_AUDIT_TTL_DAYS,
    publicUrl: 'http://localhost:3000',
    ...overrides,
  };
  /** Delivers every published event to its consumers (the indexer, pull access), as the bus would, until none is left. */
  const deliver = async () => {
    for (let batch = bus.take(); batch.length; batch = bus.take()) for (const e of batch) await consume(e, deps);
  };
  return { deps, bus, deliver };
};

export const ctx = { correlationId: 'test', actor: 'test' };

/** A base for registry event times in tests: the service refuses times before 2000 or ahead of its clock. */
export const T0 = Date.UTC(2026, 0, 1);

/** A platform admin's token, for use cases that take a caller. */
export const ADMIN: Caller = { sub: 'admin', roles: [PLATFORM_ADMIN], workspaces: [] };
