import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { rotateWebhookSecret, RotateWebhookSecretInput } from '../../shared/usecases/webhook-config.ts';

export const handler = withHttp('rotate-webhook-secret', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  const input = parseInput(RotateWebhookSecretInput, req.body ?? {}, 'body');
  return { status: 200, body: await rotateWebhookSecret(registryId, input, deps, req.ctx) };
});
