import { SpacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { getSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp('get-space', async (req, deps) => {
  const { registryId, space } = parseInput(SpacePath, req.params, 'path');
  return { status: 200, body: await getSpace(registryId, space, deps) };
});
