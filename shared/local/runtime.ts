import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Context } from 'aws-lambda';
import type { Deps } from '../deps.ts';
import { DEFAULT_AUDIT_TTL_DAYS } from '../domain/audit.ts';
import { DEFAULT_PULL_ACCESS, type PullAccessSettings } from '../domain/pull-access.ts';
import { DEFAULT_CLOCK_SKEW_MS } from '../domain/time.ts';
import { DomainError } from '../errors.ts';
import { createLocalBus } from '../events/local-bus.ts';
import { PLATFORM_ADMIN } from '../domain/caller.ts';
import { logger } from '../logger.ts';
import { egressPolicyFromEnv } from '../registries/egress.ts';
import { createHttpRegistryApi, type RegistryApi } from '../registries/registry-api.ts';
import { getDeps, provideDeps } from '../runtime.ts';
import { createLocalSecretStore, loadOrCreateKey } from '../secrets/local-secret-store.ts';
import { createStore } from '../store/index.ts';
import { RULES, SCHEDULES } from '../topology.ts';
import { authenticateCluster } from '../usecases/clusters.ts';
import { authenticateWebhook } from '../usecases/webhooks.ts';
import { startEmbeddedStore } from './embedded-store.ts';
import { signJwt } from './jwt.ts';
import { createLocalServer, type Extra, type PreAuthorize } from './server.ts';

export type RuntimeOptions = {
  port?: number;
  /** Store, keys and the generated JWT secret live here. */
  dataDir: string;
  jwtSecret?: string;
  publicUrl?: string;
  /** Keep the store in memory (tests); the data dir still holds the keys. */
  inMemory?: boolean;
  registryApi?: RegistryApi;
  /** See `Deps.clockSkewMs`. */
  clockSkewMs?: number;
  /** See `Deps.pullAccess`. */
  pullAccess?: PullAccessSettings;
  /** See `Deps.auditTtlDays`. */
  auditTtlDays?: number;
  extra?: Extra;
};

const TABLE_NAME = 'image-registry';

type Invocable = (event: unknown, context: Context) => Promise<unknown>;
const handlers = new Map<string, Promise<Invocable>>();
/** Loads `functions/<fn>/handler.ts`, the same entry point a Lambda runs. */
const loadHandler = (fn: string) => {
  let loaded = handlers.get(fn);
  if (!loaded) {
    loaded = import(new URL(`../../functions/${fn}/handler.ts`, import.meta.url).href).then((m: { handler: Invocable }) => m.handler);
    handlers.set(fn, loaded);
  }
  return loaded;
};

const unauthorizedMessage = async (check: () => Promise<unknown>) => {
  try {
    await check();
    return undefined;
  } catch (error) {
    if (error instanceof DomainError && error.code === 'UNAUTHORIZED') return error.message;
    throw error;
  }
};

/** The secret of each webhook route, checked from the headers before the server reads a body (the handler checks again). */
const PRE_AUTHORIZE: Readonly<Record<string, (params: Record<string, string>, authorization: string | undefined) => Promise<unknown>>> = {
  'receive-harbor-webhook': (params, authorization) => authenticateWebhook(params.registryId ?? '', 'harbor', authorization, getDeps()),
  'receive-distribution-webhook': (params, authorization) => authenticateWebhook(params.registryId ?? '', 'docker-registry', authorization, getDeps()),
  'review-admission': (params, authorization) => authenticateCluster(params.cluster ?? '', authorization, getDeps()),
};

// A webhook route this table does not know yet is still checked by its handler.
const preAuthorize: PreAuthorize = async (route, params, headers) => {
  const check = PRE_AUTHORIZE[route.fn];
  return check ? unauthorizedMessage(() => check(params, headers.authorization)) : undefined;
};

const secretFrom = (file: string) => {
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
};

/**
 * The embedded runtime: the embedded store, the in-process bus routed by the rule table, timers from the
 * schedule table and the local HTTP server, all calling the handlers Lambda runs.
 */
export const startRuntime = async (opts: RuntimeOptions) => {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const generatedSecret = !opts.jwtSecret;
  const jwtSecret = opts.jwtSecret ?? secretFrom(join(dataDir, 'jwt-secret'));
  const store = await startEmbeddedStore({ ...(opts.inMemory ? {} : { path: join(dataDir, 'db') }), tableName: TABLE_NAME });
  const db = store.documentClient();

  const bus = createLocalBus(RULES, async (fn, event) =>
    (await loadHandler(fn))(event, { awsRequestId: 'id' in event ? event.id : randomUUID(), functionName: fn } as Context),
  );

  const server = createLocalServer({ jwtSecret, loadHandler: (fn) => loadHandler(fn) as never, extra: opts.extra, preAuthorize });
  await new Promise<void>((ok) => server.listen(opts.port ?? 3000, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const deps: Deps = {
    store: createStore({ db, name: TABLE_NAME }),
    bus,
    secrets: createLocalSecretStore(loadOrCreateKey(join(dataDir, 'local.key'))),
    // Registry calls never reach this service itself: its port on any local address, its public URL.
    registryApi: opts.registryApi ?? createHttpRegistryApi({ policy: egressPolicyFromEnv({ ports: [port], urls: [opts.publicUrl ?? `http://localhost:${port}`] }) }),
    clock: () => new Date(),
    clockSkewMs: opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS,
    publicUrl: opts.publicUrl ?? `http://localhost:${port}`,
    pullAccess: opts.pullAccess ?? DEFAULT_PULL_ACCESS,
    auditTtlDays: opts.auditTtlDays ?? DEFAULT_AUDIT_TTL_DAYS,
  };
  provideDeps(deps);

  const timers = SCHEDULES.map((s) =>
    setInterval(() => {
      void loadHandler(s.fn)
        .then((h) => h({}, { awsRequestId: `${s.name}-${Date.now()}`, functionName: s.fn } as Context))
        .catch((error: unknown) => logger.error('scheduled run failed', { schedule: s.name, error: String(error) }));
    }, s.everySeconds * 1000).unref(),
  );

  return {
    url,
    port,
    deps,
    storeEndpoint: store.endpoint,
    /** The service's own client of the store (its transport), e.g. for a bench to count what it sends. */
    storeClient: db,
    tableName: TABLE_NAME,
    bus,
    jwtSecret,
    generatedSecret,
    adminToken: (ttlSeconds = 12 * 3600) => signJwt({ sub: 'local-admin', roles: [PLATFORM_ADMIN], workspaces: [] }, jwtSecret, ttlSeconds),
    async close() {
      for (const t of timers) clearInterval(t);
      await new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await bus.idle();
      provideDeps(undefined);
      db.destroy();
      await store.close();
    },
  };
};
export type Runtime = Awaited<ReturnType<typeof startRuntime>>;
