import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { getNamespace } from '../../shared/usecases/tenancy.ts';

export const handler = withHttp(ROUTES['get-namespace'], async ({ path, caller }, deps) => ({ status: 200, body: await getNamespace(path.cluster, path.namespace, caller, deps) }));
