import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { getWorkspaceDetail } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp(ROUTES['get-workspace'], async (req, deps) => ({ status: 200, body: await getWorkspaceDetail(req.path.workspaceId, deps) }));
