import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { applyRegistryChanges, authenticateWebhook } from '../../shared/usecases/webhooks.ts';
import { parseHarborWebhook } from '../../shared/webhooks/harbor-payload.ts';

export const handler = withHttp('receive-harbor-webhook', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  const registry = await authenticateWebhook(registryId, 'harbor', req.headers.authorization, deps);
  const changes = parseHarborWebhook(req.body);
  return { status: 200, body: await applyRegistryChanges(registry, changes, deps, { correlationId: req.requestId }) };
});
