import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { listSpaces } from '../../shared/usecases/spaces.ts';

export const handler = withHttp('list-spaces', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  return { status: 200, body: await listSpaces(registryId, deps) };
});
