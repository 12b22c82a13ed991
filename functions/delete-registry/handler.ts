import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { removeRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp(ROUTES['delete-registry'], async ({ path, ctx }, deps) => {
  await removeRegistry(path.registryId, deps, ctx);
  return { status: 204 };
});
