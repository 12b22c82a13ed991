import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { getCluster } from '../../shared/usecases/clusters.ts';

export const handler = withHttp(ROUTES['get-cluster'], async (req, deps) => ({ status: 200, body: await getCluster(req.path.cluster, deps) }));
