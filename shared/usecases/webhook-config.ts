import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { Registry, RegistrySecrets, WebhookCoverage } from '../domain/model.ts';
import type { Ctx, Deps } from '../deps.ts';
import { conflict } from '../errors.ts';
import { logger } from '../logger.ts';
import { mapLimit } from '../registries/pool.ts';
import { RegistryCallError, webhookPolicyBody, type NewHarborWebhookPolicy, type RegistryTarget } from '../registries/registry-api.ts';
import { recordAudit } from './audit.ts';
import { dropSecret, getRegistryOrThrow, webhookOf, webhookUrl } from './registry-access.ts';
import { harborProjectSecret, hashSecret, openSecrets, RotateSecretInput, WEBHOOK_SECRET_GRACE_MS } from './webhook-secrets.ts';

/**
 * The Harbor event types that change what can be selected, or what the selector shows of it (a finished scan);
 * pulls, quotas and the rest would be ignored. A policy that lacks one is updated at the next reconcile.
 */
export const HARBOR_POLICY_EVENT_TYPES = ['PUSH_ARTIFACT', 'DELETE_ARTIFACT', 'SCANNING_COMPLETED'];

/**
 * The webhook policy this service keeps on one Harbor project (named per registry id, so two installations never
 * fight over one). Its secret is that project's own (`harborProjectSecret`).
 */
export const harborWebhookPolicy = (deps: Pick<Deps, 'publicUrl'>, registry: Pick<Registry, 'id' | 'kind'>, webhookSecret: string, project: string): NewHarborWebhookPolicy => ({
  name: `platform-image-registry-${registry.id}`,
  url: webhookUrl(deps, registry),
  // Harbor sends `auth_header` verbatim as the Authorization header.
  authHeader: `Bearer ${harborProjectSecret(webhookSecret, project)}`,
  eventTypes: HARBOR_POLICY_EVENT_TYPES,
  payloadFormat: 'Default',
});

/**
 * The `notifications` block of a Docker Registry's `config.yml`. Pull events are ignored; in 2.8 `ignore.actions`
 * takes effect only when a media type is ignored too, and blob events carry `application/octet-stream`.
 */
export const distributionNotificationsYaml = (url: string, webhookSecret: string) =>
  [
    'notifications:',
    '  endpoints:',
    '    - name: platform-image-registry',
    `      url: ${JSON.stringify(url)}`,
    '      headers:',
    `        Authorization: [${JSON.stringify(`Bearer ${webhookSecret}`)}]`,
    '      timeout: 3s',
    '      threshold: 5',
    '      backoff: 5s',
    '      ignoredmediatypes:',
    '        - application/octet-stream',
    '      ignore:',
    '        actions:',
    '          - pull',
    '',
  ].join('\n');

/** Where the configuration shows the secret: it is shown once, in the registration or rotation answer. */
export const SECRET_PLACEHOLDER = '<webhook secret: shown once when the registry was connected or the secret rotated>';
/** A shell line that derives a Harbor project's secret from the registry's webhook secret. */
const DERIVE_PROJECT_SECRET =
  'printf \'%s:\' "$PROJECT"; printf \'harbor-project:%s\' "$PROJECT" | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" -binary | basenc --base64url | tr -d "=\\n"';

/**
 * What to paste into the registry so it notifies this service: the distribution `notifications` YAML, or the
 * Harbor webhook policy JSON (one per project: Harbor has no instance-wide webhook). The secret is never in it
 * (it is shown once, at registration or rotation); a Harbor project's own secret is derived as `deriveProjectSecret`
 * shows.
 */
export const getWebhookConfig = async (registryId: string, deps: Deps) => {
  const registry = await getRegistryOrThrow(deps, registryId);
  const url = webhookUrl(deps, registry);
  if (registry.kind === 'docker-registry')
    return {
      registryId,
      kind: registry.kind,
      url,
      format: 'yaml' as const,
      pasteInto: "the registry's config.yml (add the endpoint to an existing notifications.endpoints list), then restart the registry",
      snippet: distributionNotificationsYaml(url, SECRET_PLACEHOLDER),
    };
  const policy = harborWebhookPolicy(deps, registry, '', '<project>');
  return {
    registryId,
    kind: registry.kind,
    url,
    format: 'json' as const,
    pasteInto: 'POST /api/v2.0/projects/{project_name}/webhook/policies (header X-Is-Resource-Name: true), once per project',
    snippet: JSON.stringify(webhookPolicyBody({ ...policy, authHeader: 'Bearer <project secret>' }), null, 2),
    deriveProjectSecret: DERIVE_PROJECT_SECRET,
    ...(registry.webhookCoverage ? { coverage: registry.webhookCoverage } : {}),
  };
};

const NO_CREDENTIALS = 'the registry was connected without credentials: Harbor lets only a project admin register webhook policies';

/**
 * Registers this service's webhook policy on each Harbor project in `spaces` (keeps a matching one, repairs
 * ours). Spaces whose project refuses (credentials without project-admin rights, Harbor down) are reported
 * as uncovered with Harbor's reason; nothing here throws for a registry's refusal.
 */
export const ensureWebhookCoverage = async (deps: Deps, registry: Registry, spaces: readonly string[]): Promise<WebhookCoverage> => {
  const checkedAt = deps.clock().toISOString();
  const { credentials, webhookSecret } = await openSecrets(deps, registry);
  if (!credentials) return { checkedAt, covered: 0, uncovered: spaces.map((space) => ({ space, reason: NO_CREDENTIALS })) };
  const target: RegistryTarget = { kind: registry.kind, url: registry.url, credentials };
  const outcomes = await mapLimit(spaces, 4, async (space) => {
    try {
      const outcome = await deps.registryApi.ensureWebhookPolicy(target, space, harborWebhookPolicy(deps, registry, webhookSecret, space));
      if (outcome !== 'unchanged') logger.info('webhook policy registered', { registryId: registry.id, space, outcome });
      return undefined;
    } catch (error) {
      if (!(error instanceof RegistryCallError)) throw error;
      return { space, reason: `Harbor did not register the webhook policy: ${error.message}` };
    }
  });
  const uncovered = outcomes.filter((o) => o !== undefined);
  return { checkedAt, covered: spaces.length - uncovered.length, uncovered };
};

/** Best effort for one new space: a failure is logged and left to the next reconcile, which reports it. */
export const coverNewSpace = async (deps: Deps, registry: Registry, space: string) => {
  if (registry.kind !== 'harbor') return;
  try {
    const { uncovered } = await ensureWebhookCoverage(deps, registry, [space]);
    for (const u of uncovered) logger.warn('space has no webhook coverage', { registryId: registry.id, space: u.space, reason: u.reason });
  } catch (error) {
    logger.warn('webhook coverage not checked', { registryId: registry.id, space, error: String(error) });
  }
};

/**
 * Harbor: registers this service's policy again on every space's project (after a rotation, or a move to another
 * URL) and records the coverage. Best effort: the change is already stored, so a failure is logged and left to the
 * next reconcile, which does the same. Undefined for a Docker Registry (its config.yml is edited by hand) or on failure.
 */
export const reRegisterWebhookPolicies = async (deps: Deps, registry: Registry, after: string): Promise<WebhookCoverage | undefined> => {
  if (registry.kind !== 'harbor') return undefined;
  try {
    const coverage = await ensureWebhookCoverage(deps, registry, (await deps.store.spaces.list(registry.id)).map((s) => s.name).sort());
    await deps.store.registries.recordCoverage(registry.id, coverage).catch(() => undefined);
    return coverage;
  } catch (error) {
    logger.warn(`webhook policies not re-registered after ${after}; the next reconcile does it`, { registryId: registry.id, error: String(error) });
    return undefined;
  }
};

/**
 * Rotates the webhook secret. The new one is shown once, in this answer; the old one keeps working for
 * `WEBHOOK_SECRET_GRACE_MS` (Docker Registry configs are edited by hand). On Harbor the service re-registers its
 * policy, with the new project secrets, on every space's project (`coverage` tells where it could not).
 */
export const RotateWebhookSecretInput = RotateSecretInput;

export const rotateWebhookSecret = async (id: string, input: z.infer<typeof RotateWebhookSecretInput>, deps: Deps, ctx: Ctx) => {
  const registry = await getRegistryOrThrow(deps, id);
  const opened = await openSecrets(deps, registry);
  const previous = opened.webhookSecret;
  const secret = randomBytes(32).toString('base64url');
  const until = new Date(deps.clock().getTime() + (input.graceSeconds === undefined ? WEBHOOK_SECRET_GRACE_MS : input.graceSeconds * 1000)).toISOString();
  // Everything else sealed with it (credentials, pull credentials) carries over.
  const secrets: RegistrySecrets = { ...opened, webhookSecret: secret, previousWebhookSecret: previous };
  // A new secret item per version: the item and the sealed value change together, or not at all.
  const secretRef = await deps.secrets.seal(`${id}-${randomBytes(6).toString('hex')}`, JSON.stringify(secrets));
  const rotation = { fromHash: registry.webhookSecretHash, fromRef: registry.secretRef, secretRef, hash: hashSecret(secret), until };
  if (!(await deps.store.registries.rotateWebhookSecret(id, rotation))) {
    await deps.secrets.remove(secretRef);
    throw conflict(`the webhook secret of registry ${id} changed meanwhile; retry`);
  }
  // Committed: from here on nothing may keep the new secret (shown only in this answer) from its caller.
  await recordAudit(deps, ctx, { action: 'WebhookSecretRotated', target: { registryId: id }, workspaces: registry.ownerWorkspaceId ? [registry.ownerWorkspaceId] : [] });
  await dropSecret(deps, registry.secretRef, { registryId: id });
  const rotated: Registry = { ...registry, secretRef, webhookSecretHash: rotation.hash, previousWebhookSecretHash: registry.webhookSecretHash, previousWebhookSecretUntil: until };
  const coverage = await reRegisterWebhookPolicies(deps, rotated, 'rotation');
  return { registryId: id, webhook: webhookOf(deps, rotated, secret), previousSecretValidUntil: until, ...(coverage ? { coverage } : {}) };
};
