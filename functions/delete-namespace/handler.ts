import { NamespacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { deleteNamespace } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp('delete-namespace', async (req, deps) => {
  const { cluster, namespace } = parseInput(NamespacePath, req.params, 'path');
  await deleteNamespace(cluster, namespace, deps, req.ctx);
  return { status: 204 };
});
