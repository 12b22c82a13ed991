import * as z from 'zod';
import { PullAccessEnv, pullAccessOf } from '../shared/config.ts';
import { logger } from '../shared/logger.ts';
import { startRuntime } from '../shared/local/runtime.ts';

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATA_DIR: z.string().min(1).default('.data'),
  AUTH_JWT_SECRET: z.string().min(16).optional(),
  PUBLIC_URL: z.url().optional(),
  CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  POWERTOOLS_LOG_LEVEL: z.string().optional(),
  ...PullAccessEnv,
});

/**
 * Opens the embedded runtime on `DATA_DIR` for a one-off job, as `npm start` would (same store, local key and
 * `PUBLIC_URL`, so webhook policies registered from here point at the service), without serving it: the HTTP
 * server binds a random loopback port and is closed with the rest. The store is a LevelDB that one process at a
 * time may open, so the service must not be running on the same `DATA_DIR`.
 */
export const openEmbedded = async () => {
  const env = Env.parse(process.env);
  // Progress goes to the bar; the logs only say what went wrong.
  if (!env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('WARN');
  const opening = (error: unknown) => {
    console.error(`cannot open the store in ${env.DATA_DIR}: ${String(error)}\n(is \`npm start\` running on the same DATA_DIR? stop it first)`);
    process.exit(1);
  };
  // LevelDB refuses a second process asynchronously, from inside the store: catch it while opening.
  process.once('uncaughtException', opening);
  const runtime = await startRuntime({
    port: 0,
    dataDir: env.DATA_DIR,
    ...(env.AUTH_JWT_SECRET ? { jwtSecret: env.AUTH_JWT_SECRET } : {}),
    publicUrl: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
    clockSkewMs: env.CLOCK_SKEW_SECONDS * 1000,
    pullAccess: pullAccessOf(env),
  }).catch(opening);
  await runtime.deps.store.registries.list().catch(opening);
  process.removeListener('uncaughtException', opening);
  return runtime;
};
