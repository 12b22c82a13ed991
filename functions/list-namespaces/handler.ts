import { withHttp } from '../../shared/http/with-http.ts';
import { listNamespaces } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp('list-namespaces', async (req, deps) => ({ status: 200, body: await listNamespaces(req.caller, deps) }));
