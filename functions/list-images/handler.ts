import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listImages } from '../../shared/usecases/selector.ts';

export const handler = withHttp(ROUTES['list-images'], async ({ path, query, caller }, deps) => ({ status: 200, body: await listImages(path.cluster, path.namespace, query, caller, deps) }));
