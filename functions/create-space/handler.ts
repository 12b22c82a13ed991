import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { CreateSpaceInput, createSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp('create-space', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  const input = parseInput(CreateSpaceInput, req.body, 'body');
  return { status: 201, body: await createSpace(registryId, input, deps, req.ctx) };
});
