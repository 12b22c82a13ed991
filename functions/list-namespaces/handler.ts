import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listNamespaces } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp(ROUTES['list-namespaces'], async (req, deps) => ({ status: 200, body: await listNamespaces(req.caller, deps) }));
