import { WorkspacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { PutWorkspaceInput, putWorkspace } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp('put-workspace', async (req, deps) => {
  const { workspaceId } = parseInput(WorkspacePath, req.params, 'path');
  const input = parseInput(PutWorkspaceInput, req.body ?? {}, 'body');
  const { workspace, created } = await putWorkspace(workspaceId, input, deps, req.ctx);
  return { status: created ? 201 : 200, body: workspace };
});
