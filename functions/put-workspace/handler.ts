import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { putWorkspace } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp(ROUTES['put-workspace'], async (req, deps) => {
  const { workspace, created } = await putWorkspace(req.path.workspaceId, req.body, deps, req.ctx);
  return { status: created ? 201 : 200, body: workspace };
});
