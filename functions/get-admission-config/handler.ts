import { ClusterPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { AdmissionConfigQuery, getAdmissionConfig } from '../../shared/usecases/admission-config.ts';

export const handler = withHttp('get-admission-config', async (req, deps) => {
  const { cluster } = parseInput(ClusterPath, req.params, 'path');
  const query = parseInput(AdmissionConfigQuery, req.query, 'query');
  return { status: 200, body: await getAdmissionConfig(cluster, query, deps) };
});
