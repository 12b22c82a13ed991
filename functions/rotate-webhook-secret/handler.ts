import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { rotateWebhookSecret } from '../../shared/usecases/webhook-config.ts';

export const handler = withHttp(ROUTES['rotate-webhook-secret'], async (req, deps) => ({ status: 200, body: await rotateWebhookSecret(req.path.registryId, req.body, deps, req.ctx) }));
