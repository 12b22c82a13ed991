import { NamespacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { formatOf, getPullSecret } from '../../shared/usecases/pull-secret.ts';

export const handler = withHttp('get-pull-secret', async (req, deps) => {
  const { cluster, namespace } = parseInput(NamespacePath, req.params, 'path');
  const answer = await getPullSecret(cluster, namespace, { caller: req.caller, ifNoneMatch: req.headers['if-none-match'], format: formatOf(req.headers.accept) }, deps);
  const headers = { etag: answer.etag, vary: 'accept' };
  return answer.notModified ? { status: 304, headers } : { status: 200, text: answer.text, contentType: answer.contentType, headers };
});
