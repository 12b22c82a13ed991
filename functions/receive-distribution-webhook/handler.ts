import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { receiveWebhook } from '../../shared/usecases/webhooks.ts';

export const handler = withHttp(ROUTES['receive-distribution-webhook'], async (req, deps) => {
  // A webhook row's input comes as sent: a malformed id answers 401 like a wrong secret, never 400.
  const input = { registryId: req.path.registryId ?? '', authorization: req.headers.authorization, body: req.body };
  return { status: 200, body: await receiveWebhook('docker-registry', input, deps, req.ctx) };
});
