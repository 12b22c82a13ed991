import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { syncRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp('sync-registry', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  return { status: 202, body: await syncRegistry(registryId, deps, req.ctx) };
});
