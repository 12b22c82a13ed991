import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listSpaces } from '../../shared/usecases/spaces.ts';

export const handler = withHttp(ROUTES['list-spaces'], async (req, deps) => ({ status: 200, body: await listSpaces(req.path.registryId, deps) }));
