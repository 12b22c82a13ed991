import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { updateSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp(ROUTES['update-space'], async (req, deps) => ({ status: 200, body: await updateSpace(req.path.registryId, req.path.space, req.body, deps, req.ctx) }));
