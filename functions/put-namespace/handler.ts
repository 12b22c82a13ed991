import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { putNamespace } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp(ROUTES['put-namespace'], async (req, deps) => {
  const result = await putNamespace(req.path.cluster, req.path.namespace, req.body, deps, req.ctx);
  return { status: result.created ? 201 : 200, body: result.namespace };
});
