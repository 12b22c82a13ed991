import { randomBytes } from 'node:crypto';
import type { BusEvent } from '../../events/contract.ts';
import type { Deps } from '../../shared/deps.ts';
import { DEFAULT_CLOCK_SKEW_MS } from '../../shared/domain/time.ts';
import { handleIndexEvent } from '../../shared/index/indexer.ts';
import type { RegistryApi } from '../../shared/registries/registry-api.ts';
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

/** Harbor that always agrees (for use-case tests; the HTTP Harbor client is tested against the fake server). */
export const agreeableRegistryApi = (): RegistryApi & { projects: Map<string, boolean> } => {
  const projects = new Map<string, boolean>();
  return {
    projects,
    checkUrl: async () => undefined,
    probe: async () => ({ status: 'healthy' }),
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

export const testDeps = (store: Store, overrides: Partial<Deps> = {}) => {
  const bus = collectingBus();
  const deps: Deps = {
    store,
    bus,
    secrets: createLocalSecretStore(randomBytes(32)),
    registryApi: agreeableRegistryApi(),
    clock: () => new Date(),
    clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
    publicUrl: 'http://localhost:3000',
    ...overrides,
  };
  /** Delivers every published event to the indexer, as the bus would, until none is left. */
  const deliver = async () => {
    for (let batch = bus.take(); batch.length; batch = bus.take()) for (const e of batch) await handleIndexEvent(e, deps);
  };
  return { deps, bus, deliver };
};

export const ctx = { correlationId: 'test' };

/** A base for registry event times in tests: the service refuses times before 2000 or ahead of its clock. */
export const T0 = Date.UTC(2026, 0, 1);
