import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { updateRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp(ROUTES['update-registry'], async (req, deps) => ({ status: 200, body: await updateRegistry(req.path.registryId, req.body, deps, req.ctx) }));
