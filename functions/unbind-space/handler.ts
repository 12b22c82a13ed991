import { BindingPath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { unbindSpace } from '../../shared/usecases/spaces.ts';

export const handler = withHttp('unbind-space', async (req, deps) => {
  const { registryId, space, workspaceId } = parseInput(BindingPath, req.params, 'path');
  await unbindSpace(registryId, space, workspaceId, deps, req.ctx);
  return { status: 204 };
});
