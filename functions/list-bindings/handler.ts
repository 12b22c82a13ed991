import { SpacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { listBindings } from '../../shared/usecases/spaces.ts';

export const handler = withHttp('list-bindings', async (req, deps) => {
  const { registryId, space } = parseInput(SpacePath, req.params, 'path');
  return { status: 200, body: await listBindings(registryId, space, deps) };
});
