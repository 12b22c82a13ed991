import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { RegistrySecrets, SpaceName, type Registry } from '../domain/model.ts';
import type { Deps } from '../deps.ts';

/**
 * After a rotation the old webhook secret (or a cluster's admission token) keeps working this long, so registries and
 * API servers can be moved over without a gap.
 */
export const WEBHOOK_SECRET_GRACE_MS = 24 * 3600 * 1000;

/** The body of a rotation (webhook secret, admission token). */
export const RotateSecretInput = z.strictObject({
  /** How long the old secret keeps working: 0 cuts it off at once (a leaked secret). Default 24 h. */
  graceSeconds: z.number().int().min(0).max(WEBHOOK_SECRET_GRACE_MS / 1000).optional(),
});

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('base64url');

/**
 * The secret one Harbor project's webhook policy carries: `<project>:<HMAC-SHA256(registry webhook secret,
 * "harbor-project:<project>"), base64url>`. It names its project, so a delivery is checked before its body is read,
 * and it is worthless for any other project: a project admin who reads their own policy cannot speak for another.
 */
export const harborProjectSecret = (webhookSecret: string, project: string) =>
  `${project}:${createHmac('sha256', webhookSecret).update(`harbor-project:${project}`).digest('base64url')}`;

/** Equal strings, in time that depends on neither (both sides are hashed to one length first). */
export const sameSecret = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** Whether the previous secret of a rotation is still accepted. */
const inGrace = (registry: Registry, now: Date) => !!registry.previousWebhookSecretUntil && Date.parse(registry.previousWebhookSecretUntil) > now.getTime();

const CACHE_TTL_MS = 60_000;
const cache = new Map<string, { secrets: RegistrySecrets; until: number }>();

/**
 * The registry's opened secrets, kept a minute per process: a Harbor delivery needs the webhook secret itself (to
 * derive the project's), and opening the secret store on every delivery would cost a call each. The key holds the
 * secret's hash, so a rotation is seen at once.
 */
export const openSecrets = async (deps: Pick<Deps, 'secrets'>, registry: Registry): Promise<RegistrySecrets> => {
  const key = `${registry.secretRef}|${registry.webhookSecretHash}`;
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return hit.secrets;
  const secrets = RegistrySecrets.parse(JSON.parse(await deps.secrets.open(registry.secretRef)));
  if (cache.size >= 1000) cache.clear();
  cache.set(key, { secrets, until: Date.now() + CACHE_TTL_MS });
  return secrets;
};

/**
 * Checks a delivery's bearer token. Docker Registry: the registry's secret (its hash is compared, the store is not
 * opened). Harbor: a project's own secret (`harborProjectSecret`); the answer names the project it is good for.
 * The previous secret of a rotation is accepted during its grace. Undefined when the token is not good.
 */
export const verifyWebhookToken = async (deps: Pick<Deps, 'secrets' | 'clock'>, registry: Registry, token: string): Promise<{ project?: string } | undefined> => {
  const grace = inGrace(registry, deps.clock());
  if (registry.kind === 'docker-registry') {
    const given = hashSecret(token);
    const ok = sameSecret(given, registry.webhookSecretHash) || (grace && !!registry.previousWebhookSecretHash && sameSecret(given, registry.previousWebhookSecretHash));
    return ok ? {} : undefined;
  }
  const colon = token.lastIndexOf(':');
  const project = token.slice(0, Math.max(colon, 0));
  if (!SpaceName.safeParse(project).success) return undefined;
  const { webhookSecret, previousWebhookSecret } = await openSecrets(deps, registry);
  const ok = sameSecret(token, harborProjectSecret(webhookSecret, project)) || (grace && !!previousWebhookSecret && sameSecret(token, harborProjectSecret(previousWebhookSecret, project)));
  return ok ? { project } : undefined;
};
