import { NamespacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { getNamespace } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp('get-namespace', async (req, deps) => {
  const { cluster, namespace } = parseInput(NamespacePath, req.params, 'path');
  return { status: 200, body: await getNamespace(cluster, namespace, req.caller, deps) };
});
