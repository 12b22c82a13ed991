import { SpacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { UpdateSpaceInput, updateSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp('update-space', async (req, deps) => {
  const { registryId, space } = parseInput(SpacePath, req.params, 'path');
  const input = parseInput(UpdateSpaceInput, req.body, 'body');
  return { status: 200, body: await updateSpace(registryId, space, input, deps, req.ctx) };
});
