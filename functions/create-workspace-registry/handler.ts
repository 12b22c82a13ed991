import { WorkspacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { RegisterRegistryInput, registerRegistry } from '../../shared/usecases/registries.ts';

export const handler = withHttp('create-workspace-registry', async (req, deps) => {
  const { workspaceId } = parseInput(WorkspacePath, req.params, 'path');
  const input = parseInput(RegisterRegistryInput, req.body, 'body');
  return { status: 201, body: await registerRegistry(input, deps, req.ctx, workspaceId) };
});
