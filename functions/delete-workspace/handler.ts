import { WorkspacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { deleteWorkspace } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp('delete-workspace', async (req, deps) => {
  const { workspaceId } = parseInput(WorkspacePath, req.params, 'path');
  await deleteWorkspace(workspaceId, deps, req.ctx);
  return { status: 204 };
});
