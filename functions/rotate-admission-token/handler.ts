import { ClusterPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { RotateAdmissionTokenInput, rotateAdmissionToken } from '../../shared/usecases/clusters.ts';

export const handler = withHttp('rotate-admission-token', async (req, deps) => {
  const { cluster } = parseInput(ClusterPath, req.params, 'path');
  const input = parseInput(RotateAdmissionTokenInput, req.body ?? {}, 'body');
  return { status: 200, body: await rotateAdmissionToken(cluster, input, deps, req.ctx) };
});
