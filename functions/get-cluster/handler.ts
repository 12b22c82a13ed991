import { ClusterPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { getCluster } from '../../shared/usecases/clusters.ts';

export const handler = withHttp('get-cluster', async (req, deps) => {
  const { cluster } = parseInput(ClusterPath, req.params, 'path');
  return { status: 200, body: await getCluster(cluster, deps) };
});
