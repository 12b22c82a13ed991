import { NamespacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { ExplainQuery, explainImage } from '../../shared/usecases/explain.ts';

export const handler = withHttp('explain-image', async (req, deps) => {
  const { cluster, namespace } = parseInput(NamespacePath, req.params, 'path');
  const { image } = parseInput(ExplainQuery, req.query, 'query');
  return { status: 200, body: await explainImage(cluster, namespace, image, req.caller, deps) };
});
