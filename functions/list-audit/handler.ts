import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listAudit } from '../../shared/usecases/audit.ts';

export const handler = withHttp(ROUTES['list-audit'], async ({ query, caller }, deps) => ({ status: 200, body: await listAudit(query, caller, deps) }));
