import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { putCluster } from '../../shared/usecases/clusters.ts';

export const handler = withHttp(ROUTES['put-cluster'], async (req, deps) => {
  const result = await putCluster(req.path.cluster, req.body, deps, req.ctx);
  return { status: result.created ? 201 : 200, body: result.body };
});
