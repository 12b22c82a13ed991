import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { deleteWorkspace } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp(ROUTES['delete-workspace'], async ({ path, ctx }, deps) => {
  await deleteWorkspace(path.workspaceId, deps, ctx);
  return { status: 204 };
});
