import { openApiDocument } from '../../shared/http/openapi.ts';
import { withHttp } from '../../shared/http/with-http.ts';

export const handler = withHttp('get-openapi', async () => ({ status: 200, body: openApiDocument(), headers: { 'cache-control': 'no-cache' } }));
