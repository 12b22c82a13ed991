import { SpacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { deleteSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp('delete-space', async (req, deps) => {
  const { registryId, space } = parseInput(SpacePath, req.params, 'path');
  await deleteSpace(registryId, space, deps, req.ctx);
  return { status: 204 };
});
