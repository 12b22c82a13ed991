import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { applyRegistryChanges, authenticateWebhook } from '../../shared/usecases/webhooks.ts';
import { parseDistributionWebhook } from '../../shared/webhooks/distribution-payload.ts';

export const handler = withHttp('receive-distribution-webhook', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  const registry = await authenticateWebhook(registryId, 'docker-registry', req.headers.authorization, deps);
  const changes = parseDistributionWebhook(req.body);
  return { status: 200, body: await applyRegistryChanges(registry, changes, deps, { correlationId: req.requestId }) };
});
