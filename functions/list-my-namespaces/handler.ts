import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listMyNamespaces } from '../../shared/usecases/me.ts';

export const handler = withHttp(ROUTES['list-my-namespaces'], async (req, deps) => ({ status: 200, body: await listMyNamespaces(req.caller, deps) }));
