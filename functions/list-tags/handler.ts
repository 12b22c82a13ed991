import { NamespacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { ListTagsQuery, listTags } from '../../shared/usecases/selector.ts';

export const handler = withHttp('list-tags', async (req, deps) => {
  const { cluster, namespace } = parseInput(NamespacePath, req.params, 'path');
  const { image } = parseInput(ListTagsQuery, req.query, 'query');
  return { status: 200, body: await listTags(cluster, namespace, image, req.caller, deps) };
});
