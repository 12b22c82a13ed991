import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { createSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp(ROUTES['create-space'], async (req, deps) => ({ status: 201, body: await createSpace(req.path.registryId, req.body, deps, req.ctx) }));
