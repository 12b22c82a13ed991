import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { uiFile } from '../../web/assets.ts';

// The page (`/`) and its assets (`/ui/{asset}`): one function, two rows.
export const handler = withHttp([ROUTES['get-ui'], ROUTES['get-ui-asset']], async ({ path, query }) => uiFile('asset' in path ? path.asset : undefined, query.v));
