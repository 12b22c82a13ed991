import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { UiPath, UiQuery, uiFile } from '../../web/assets.ts';

export const handler = withHttp('get-ui', async (req) => {
  const { asset } = parseInput(UiPath, req.params, 'path');
  const { v } = parseInput(UiQuery, req.query, 'query');
  return uiFile(asset, v);
});
