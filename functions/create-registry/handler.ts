import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { RegisterRegistryInput, registerRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp('create-registry', async (req, deps) => {
  const input = parseInput(RegisterRegistryInput, req.body, 'body');
  return { status: 201, body: await registerRegistry(input, deps, req.ctx) };
});
