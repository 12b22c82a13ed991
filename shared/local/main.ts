import * as z from 'zod';
import { AuditEnv, PullAccessEnv, pullAccessOf } from '../config.ts';
import { logger } from '../logger.ts';
import { startRuntime } from './runtime.ts';

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATA_DIR: z.string().min(1).default('.data'),
  AUTH_JWT_SECRET: z.string().min(16, 'AUTH_JWT_SECRET must be at least 16 characters').optional(),
  PUBLIC_URL: z.url().optional(),
  CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  ...PullAccessEnv,
  ...AuditEnv,
});

const env = Env.parse(process.env);
const runtime = await startRuntime({
  port: env.PORT,
  dataDir: env.DATA_DIR,
  ...(env.AUTH_JWT_SECRET ? { jwtSecret: env.AUTH_JWT_SECRET } : {}),
  publicUrl: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
  clockSkewMs: env.CLOCK_SKEW_SECONDS * 1000,
  pullAccess: pullAccessOf(env),
  auditTtlDays: env.AUDIT_TTL_DAYS,
});
console.log(`image registry service listening on ${runtime.url} (data in ${env.DATA_DIR})`);
if (runtime.generatedSecret) console.log(`admin token (12 h): ${runtime.adminToken()}`);

const stop = async () => {
  logger.info('shutting down');
  await runtime.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
