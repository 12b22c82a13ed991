import type { Registry, WebhookCoverage } from '../domain/model.ts';
import type { Deps } from '../deps.ts';
import { logger } from '../logger.ts';
import { RegistryCallError, webhookPolicyBody, type NewHarborWebhookPolicy } from '../registries/harbor-client.ts';
import { mapLimit } from '../registries/pool.ts';
import type { RegistryTarget } from '../registries/registry-api.ts';
import { getRegistryOrThrow, secretsOf, webhookUrl } from './registries.ts';

/** The Harbor event types that change what can be selected; pulls, scans, quotas and the rest would be ignored. */
export const HARBOR_POLICY_EVENT_TYPES = ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'];

/** The webhook policy this service keeps on every Harbor project it covers (named per registry id, so two installations never fight over one). */
export const harborWebhookPolicy = (deps: Pick<Deps, 'publicUrl'>, registry: Pick<Registry, 'id' | 'kind'>, webhookSecret: string): NewHarborWebhookPolicy => ({
  name: `platform-image-registry-${registry.id}`,
  url: webhookUrl(deps, registry),
  // Harbor sends `auth_header` verbatim as the Authorization header.
  authHeader: `Bearer ${webhookSecret}`,
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

/**
 * What to paste into the registry so it notifies this service: the distribution `notifications` YAML, or the
 * Harbor webhook policy JSON (one per project: Harbor has no instance-wide webhook). It holds the webhook
 * secret, so it is served to admins only.
 */
export const getWebhookConfig = async (registryId: string, deps: Deps) => {
  const registry = await getRegistryOrThrow(deps, registryId);
  const { webhookSecret } = await secretsOf(deps, registry);
  const url = webhookUrl(deps, registry);
  if (registry.kind === 'docker-registry')
    return {
      registryId,
      kind: registry.kind,
      url,
      format: 'yaml' as const,
      pasteInto: "the registry's config.yml (add the endpoint to an existing notifications.endpoints list), then restart the registry",
      snippet: distributionNotificationsYaml(url, webhookSecret),
    };
  return {
    registryId,
    kind: registry.kind,
    url,
    format: 'json' as const,
    pasteInto: 'POST /api/v2.0/projects/{project_name}/webhook/policies (header X-Is-Resource-Name: true), once per project',
    snippet: JSON.stringify(webhookPolicyBody(harborWebhookPolicy(deps, registry, webhookSecret)), null, 2),
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
  const { credentials, webhookSecret } = await secretsOf(deps, registry);
  if (!credentials) return { checkedAt, covered: 0, uncovered: spaces.map((space) => ({ space, reason: NO_CREDENTIALS })) };
  const target: RegistryTarget = { kind: registry.kind, url: registry.url, credentials };
  const policy = harborWebhookPolicy(deps, registry, webhookSecret);
  const outcomes = await mapLimit(spaces, 4, async (space) => {
    try {
      const outcome = await deps.registryApi.ensureWebhookPolicy(target, space, policy);
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
