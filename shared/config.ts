import * as z from 'zod';
import { DEFAULT_AUDIT_TTL_DAYS } from './domain/audit.ts';
import { DEFAULT_PULL_ACCESS, ROBOT_PREFIX_PATTERN, type PullAccessSettings } from './domain/pull-access.ts';

/** The pull-robot settings, read by every runtime the same way. */
export const PullAccessEnv = {
  /** Harbor robots are named `<prefix>.<workspace>`: give each service instance on one Harbor its own. */
  ROBOT_NAME_PREFIX: z.string().max(64).regex(ROBOT_PREFIX_PATTERN, 'must be lower-case letters and digits, separated by -').default(DEFAULT_PULL_ACCESS.robotPrefix),
  /** A robot's lifetime in days; rotated when a third of it is left. */
  ROBOT_DURATION_DAYS: z.coerce.number().int().min(3).max(3650).default(DEFAULT_PULL_ACCESS.robotDays),
};

export const pullAccessOf = (env: { ROBOT_NAME_PREFIX: string; ROBOT_DURATION_DAYS: number }): PullAccessSettings => ({
  robotPrefix: env.ROBOT_NAME_PREFIX,
  robotDays: env.ROBOT_DURATION_DAYS,
});

/** The audit trail's setting, read by every runtime the same way. */
export const AuditEnv = {
  /** Days an audit entry is kept (DynamoDB's TTL deletes it some time later; reads skip it at once). */
  AUDIT_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(DEFAULT_AUDIT_TTL_DAYS),
};

/** The environment every function reads once per cold start (and the local runtime sets before serving). */
export const Config = z.object({
  TABLE_NAME: z.string().min(1),
  /** Set for DynamoDB Local or the embedded store; absent in AWS. */
  DYNAMODB_ENDPOINT: z.url().optional(),
  BUS_KIND: z.enum(['eventbridge', 'local']).default('eventbridge'),
  EVENT_BUS_NAME: z.string().min(1).optional(),
  SECRETS_KIND: z.enum(['secrets-manager', 'local']).default('secrets-manager'),
  /** Secrets Manager name prefix for registry credentials. */
  SECRETS_PREFIX: z.string().default('image-registry'),
  /** The local secret store's AES-256 key file. */
  LOCAL_KEY_FILE: z.string().optional(),
  /** Base of the webhook URLs handed out. */
  PUBLIC_URL: z.url(),
  /** How far ahead of this service's clock a registry's event time may be; later ones are refused. */
  CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** Comma-separated CIDRs added to, or opened in, the addresses registry calls may never reach (see `egressPolicyFromEnv`). */
  REGISTRY_DENY_CIDRS: z.string().optional(),
  REGISTRY_ALLOW_CIDRS: z.string().optional(),
  ...PullAccessEnv,
  ...AuditEnv,
});
export type Config = z.infer<typeof Config>;

/** Parses the environment, failing fast with every problem listed. */
export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const result = Config.safeParse(env);
  if (!result.success) throw new Error(`invalid configuration: ${z.prettifyError(result.error)}`);
  const config = result.data;
  if (config.BUS_KIND === 'eventbridge' && !config.EVENT_BUS_NAME) throw new Error('invalid configuration: EVENT_BUS_NAME is required');
  if (config.SECRETS_KIND === 'local' && !config.LOCAL_KEY_FILE) throw new Error('invalid configuration: LOCAL_KEY_FILE is required');
  return config;
};
