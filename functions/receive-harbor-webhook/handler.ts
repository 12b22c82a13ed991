import { withHttp } from '../../shared/http/with-http.ts';
import { receiveWebhook } from '../../shared/usecases/webhooks.ts';

export const handler = withHttp('receive-harbor-webhook', async (req, deps) => {
  // The id is not parsed here: a malformed one answers 401 like a wrong secret, never 400.
  const input = { registryId: req.params.registryId ?? '', authorization: req.headers.authorization, body: req.body };
  return { status: 200, body: await receiveWebhook('harbor', input, deps, req.ctx) };
});
