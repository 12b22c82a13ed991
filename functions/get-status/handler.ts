import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { indexStatus } from '../../shared/usecases/status.ts';

export const handler = withHttp(ROUTES['get-status'], async (_req, deps) => ({ status: 200, body: await indexStatus(deps) }));
