import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp(ROUTES['create-registry'], async (req, deps) => ({ status: 201, body: await registerRegistry(req.body, deps, req.ctx) }));
