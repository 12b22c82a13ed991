import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { getWebhookConfig } from '../../shared/usecases/webhook-config.ts';

export const handler = withHttp(ROUTES['get-webhook-config'], async (req, deps) => ({ status: 200, body: await getWebhookConfig(req.path.registryId, deps) }));
