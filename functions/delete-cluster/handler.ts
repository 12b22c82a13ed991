import { ClusterPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { deleteCluster } from '../../shared/usecases/clusters.ts';

export const handler = withHttp('delete-cluster', async (req, deps) => {
  const { cluster } = parseInput(ClusterPath, req.params, 'path');
  await deleteCluster(cluster, deps, req.ctx);
  return { status: 204 };
});
