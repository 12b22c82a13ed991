import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listWorkspaces } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp(ROUTES['list-workspaces'], async (req, deps) => ({ status: 200, body: await listWorkspaces(req.caller, deps) }));
