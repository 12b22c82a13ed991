import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { formatOf, getPullSecret } from '../../shared/usecases/pull-secret.ts';

export const handler = withHttp(ROUTES['get-pull-secret'], async ({ path, caller, headers }, deps) => {
  const answer = await getPullSecret(path.cluster, path.namespace, { caller, ifNoneMatch: headers['if-none-match'], format: formatOf(headers.accept) }, deps);
  const etag = { etag: answer.etag, vary: 'accept' };
  return answer.notModified ? { status: 304, headers: etag } : { status: 200, text: answer.text, contentType: answer.contentType, headers: etag };
});
