import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listClusters } from '../../shared/usecases/clusters.ts';

export const handler = withHttp(ROUTES['list-clusters'], async (_req, deps) => ({ status: 200, body: await listClusters(deps) }));
