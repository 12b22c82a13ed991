import * as z from 'zod';
import { Config, PullAccessEnv } from '../shared/config.ts';

/**
 * The deploy-time settings, read once from CDK context (`-c key=value` or cdk.json). No defaults for what
 * decides who may call the API: a deploy without the OIDC issuer and audience fails before anything is built.
 */
export const DeploySettings = z.object({
  /** Goes into every physical name, so stages live side by side in one account. */
  stage: z.string().regex(/^[a-z][a-z0-9]{1,9}$/, 'must be 2-10 lower-case letters or digits, starting with a letter'),
  /** The OIDC issuer API Gateway's JWT authorizer trusts (its `iss`; discovery at `<issuer>/.well-known/openid-configuration`). */
  oidcIssuer: z.url({ protocol: /^https$/, error: 'must be an https URL' }),
  /** Accepted `aud` values (comma-separated in context). */
  oidcAudience: z
    .string()
    .transform((s) => s.split(',').map((a) => a.trim()).filter(Boolean))
    .pipe(z.array(z.string()).min(1, 'needs at least one audience')),
  /** Base of the webhook URLs handed out; defaults to the HTTP API's own endpoint (set it with a custom domain). */
  publicUrl: z.url({ protocol: /^https$/, error: 'must be an https URL' }).optional(),
  /** Where alarms are mailed (optional: the alarm topic exists either way). */
  alarmEmail: z.email().optional(),
  logRetentionDays: z.coerce.number().int().positive().default(30),
  /** Stage-wide API throttling; sized for 1k selector reads/s plus pushes with headroom. */
  apiRateLimit: z.coerce.number().int().positive().default(2000),
  apiBurstLimit: z.coerce.number().int().positive().default(1000),
  /** How far ahead of the service's clock a registry's event time may be (seconds). */
  clockSkewSeconds: z.coerce.number().int().min(0).max(86_400).default(300),
  /** Comma-separated CIDRs registry calls may never reach, on top of link-local and metadata addresses. */
  registryDenyCidrs: z.string().optional(),
  /** Comma-separated CIDRs opened in that default deny list (the service itself stays denied). */
  registryAllowCidrs: z.string().optional(),
  /** Harbor pull robots are named `<robotNamePrefix>.<workspace>` (one prefix per stage sharing a Harbor). */
  robotNamePrefix: PullAccessEnv.ROBOT_NAME_PREFIX,
  /** A pull robot's lifetime in days (rotated with a third left). */
  robotDurationDays: PullAccessEnv.ROBOT_DURATION_DAYS,
  /** Days an audit entry is kept (DynamoDB's TTL deletes it some time after). */
  auditTtlDays: Config.shape.AUDIT_TTL_DAYS,
});
export type DeploySettings = z.infer<typeof DeploySettings>;

export const SETTING_KEYS = Object.keys(DeploySettings.shape) as (keyof DeploySettings)[];

/** Parses the context, failing fast with every problem listed and how to pass it. */
export const readDeploySettings = (context: (key: string) => unknown): DeploySettings => {
  const raw = Object.fromEntries(SETTING_KEYS.map((k) => [k, context(k)]).filter(([, v]) => v !== undefined));
  const result = DeploySettings.safeParse(raw);
  if (!result.success)
    throw new Error(
      `invalid CDK context (pass each with -c key=value): ${z.prettifyError(result.error)}\n` +
        'e.g. npx cdk deploy --all -c stage=prod -c oidcIssuer=https://login.example.com/realms/platform -c oidcAudience=image-registry',
    );
  return result.data;
};

/** Physical names of one stage: `image-registry-<stage>[-<part>]`. */
export const stageName = (settings: Pick<DeploySettings, 'stage'>, part?: string) =>
  part ? `image-registry-${settings.stage}-${part}` : `image-registry-${settings.stage}`;
