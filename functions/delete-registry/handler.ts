import { RegistryPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { removeRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp('delete-registry', async (req, deps) => {
  const { registryId } = parseInput(RegistryPath, req.params, 'path');
  await removeRegistry(registryId, deps, { correlationId: req.requestId });
  return { status: 204 };
});
