import { BindingPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { bindSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp('bind-space', async (req, deps) => {
  const { registryId, space, workspaceId } = parseInput(BindingPath, req.params, 'path');
  await bindSpace(registryId, space, workspaceId, deps, req.ctx);
  return { status: 204 };
});
