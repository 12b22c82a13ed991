import { SpacePath } from '../../shared/http/params.ts';
import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { SpaceChangePreviewInput, previewSpaceChange } from '../../shared/usecases/blast-radius.ts';

export const handler = withHttp('preview-space-change', async (req, deps) => {
  const { registryId, space } = parseInput(SpacePath, req.params, 'path');
  const input = parseInput(SpaceChangePreviewInput, req.body, 'body');
  return { status: 200, body: await previewSpaceChange(registryId, space, input, deps) };
});
