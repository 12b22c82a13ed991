import { WorkspacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { rotateWorkspacePullCredentials } from '../../shared/usecases/pull-access.ts';

export const handler = withHttp('rotate-pull-credentials', async (req, deps) => {
  const { workspaceId } = parseInput(WorkspacePath, req.params, 'path');
  return { status: 202, body: await rotateWorkspacePullCredentials(workspaceId, deps, req.ctx) };
});
