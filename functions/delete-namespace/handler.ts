import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { deleteNamespace } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp(ROUTES['delete-namespace'], async ({ path, ctx }, deps) => {
  await deleteNamespace(path.cluster, path.namespace, deps, ctx);
  return { status: 204 };
});
