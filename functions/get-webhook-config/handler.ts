import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { getWebhookConfig } from '../../shared/usecases/webhook-config.ts';

export const handler = withHttp('get-webhook-config', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  return { status: 200, body: await getWebhookConfig(registryId, deps) };
});
