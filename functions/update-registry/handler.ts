import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { UpdateRegistryInput, updateRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp('update-registry', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  const input = parseInput(UpdateRegistryInput, req.body ?? {}, 'body');
  return { status: 200, body: await updateRegistry(registryId, input, deps, req.ctx) };
});
