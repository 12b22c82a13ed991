import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { bindSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp(ROUTES['bind-space'], async ({ path, ctx }, deps) => {
  await bindSpace(path.registryId, path.space, path.workspaceId, deps, ctx);
  return { status: 204 };
});
