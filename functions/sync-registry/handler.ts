import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { syncRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp(ROUTES['sync-registry'], async (req, deps) => ({ status: 202, body: await syncRegistry(req.path.registryId, deps, req.ctx) }));
