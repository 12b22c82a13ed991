import { ClusterPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { ListAdmissionDecisionsQuery, listAdmissionDecisions } from '../../shared/usecases/clusters.ts';

export const handler = withHttp('list-admission-decisions', async (req, deps) => {
  const { cluster } = parseInput(ClusterPath, req.params, 'path');
  const query = parseInput(ListAdmissionDecisionsQuery, req.query, 'query');
  return { status: 200, body: await listAdmissionDecisions(cluster, query, deps) };
});
