import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { previewSpaceChange } from '../../shared/usecases/blast-radius.ts';

export const handler = withHttp(ROUTES['preview-space-change'], async (req, deps) => ({ status: 200, body: await previewSpaceChange(req.path.registryId, req.path.space, req.body, deps) }));
