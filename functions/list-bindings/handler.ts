import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listBindings } from '../../shared/usecases/spaces.ts';

export const handler = withHttp(ROUTES['list-bindings'], async (req, deps) => ({ status: 200, body: await listBindings(req.path.registryId, req.path.space, deps) }));
