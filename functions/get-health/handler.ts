import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';

export const handler = withHttp(ROUTES['get-health'], async () => ({ status: 200, body: { status: 'ok' } }));
