import { ClusterPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { PutClusterInput, putCluster } from '../../shared/usecases/clusters.ts';

export const handler = withHttp('put-cluster', async (req, deps) => {
  const { cluster } = parseInput(ClusterPath, req.params, 'path');
  const input = parseInput(PutClusterInput, req.body, 'body');
  const result = await putCluster(cluster, input, deps, req.ctx);
  return { status: result.created ? 201 : 200, body: result.body };
});
