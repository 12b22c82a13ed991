import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { deleteCluster } from '../../shared/usecases/clusters.ts';

export const handler = withHttp(ROUTES['delete-cluster'], async ({ path, ctx }, deps) => {
  await deleteCluster(path.cluster, deps, ctx);
  return { status: 204 };
});
