import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { removeRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp('delete-registry', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  await removeRegistry(registryId, deps, req.ctx);
  return { status: 204 };
});
