import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { getRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp('get-registry', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  return { status: 200, body: await getRegistry(registryId, deps) };
});
