import { withHttp } from '../../shared/http/with-http.ts';

export const handler = withHttp('get-health', async () => ({ status: 200, body: { status: 'ok' } }));
