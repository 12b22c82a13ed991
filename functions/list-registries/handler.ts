import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listRegistries } from '../../shared/usecases/registries.ts';

export const handler = withHttp(ROUTES['list-registries'], async (req, deps) => ({ status: 200, body: await listRegistries(req.caller, deps) }));
