import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { rotateWorkspacePullCredentials } from '../../shared/usecases/pull-access.ts';

export const handler = withHttp(ROUTES['rotate-pull-credentials'], async (req, deps) => ({ status: 202, body: await rotateWorkspacePullCredentials(req.path.workspaceId, deps, req.ctx) }));
