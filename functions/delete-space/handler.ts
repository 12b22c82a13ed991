import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { deleteSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp(ROUTES['delete-space'], async ({ path, ctx }, deps) => {
  await deleteSpace(path.registryId, path.space, deps, ctx);
  return { status: 204 };
});
