import { withHttp } from '../../shared/http/with-http.ts';
import { listRegistries } from '../../shared/usecases/registries.ts';

export const handler = withHttp('list-registries', async (req, deps) => ({ status: 200, body: await listRegistries(req.caller, deps) }));
