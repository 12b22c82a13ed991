import { WorkspacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { getWorkspaceDetail } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp('get-workspace', async (req, deps) => {
  const { workspaceId } = parseInput(WorkspacePath, req.params, 'path');
  return { status: 200, body: await getWorkspaceDetail(workspaceId, deps) };
});
