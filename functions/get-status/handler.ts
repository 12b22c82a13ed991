import { withHttp } from '../../shared/http/with-http.ts';
import { indexStatus } from '../../shared/usecases/status.ts';

export const handler = withHttp('get-status', async (_req, deps) => ({ status: 200, body: await indexStatus(deps) }));
