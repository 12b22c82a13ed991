import { NamespacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { ListImagesQuery, listImages } from '../../shared/usecases/selector.ts';

export const handler = withHttp('list-images', async (req, deps) => {
  const { cluster, namespace } = parseInput(NamespacePath, req.params, 'path');
  const query = parseInput(ListImagesQuery, req.query, 'query');
  return { status: 200, body: await listImages(cluster, namespace, query, req.caller, deps) };
});
