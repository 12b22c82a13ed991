import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { getRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp(ROUTES['get-registry'], async (req, deps) => ({ status: 200, body: await getRegistry(req.path.registryId, deps) }));
