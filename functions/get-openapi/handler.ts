import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { openApiDocument } from '../../shared/http/openapi.ts';

export const handler = withHttp(ROUTES['get-openapi'], async () => ({ status: 200, body: openApiDocument(), headers: { 'cache-control': 'no-cache' } }));
