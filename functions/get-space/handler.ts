import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { getSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp(ROUTES['get-space'], async (req, deps) => ({ status: 200, body: await getSpace(req.path.registryId, req.path.space, deps) }));
