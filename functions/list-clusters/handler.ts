import { withHttp } from '../../shared/http/with-http.ts';
import { listClusters } from '../../shared/usecases/clusters.ts';

export const handler = withHttp('list-clusters', async (_req, deps) => ({ status: 200, body: await listClusters(deps) }));
