import { NamespacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { PutNamespaceInput, putNamespace } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp('put-namespace', async (req, deps) => {
  const { cluster, namespace } = parseInput(NamespacePath, req.params, 'path');
  const input = parseInput(PutNamespaceInput, req.body, 'body');
  const result = await putNamespace(cluster, namespace, input, deps, req.ctx);
  return { status: result.created ? 201 : 200, body: result.namespace };
});
