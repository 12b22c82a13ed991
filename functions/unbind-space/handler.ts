import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { unbindSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp(ROUTES['unbind-space'], async ({ path, ctx }, deps) => {
  await unbindSpace(path.registryId, path.space, path.workspaceId, deps, ctx);
  return { status: 204 };
});
