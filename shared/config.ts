import * as z from 'zod';

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
