import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listTags } from '../../shared/usecases/selector.ts';

export const handler = withHttp(ROUTES['list-tags'], async ({ path, query, caller }, deps) => ({ status: 200, body: await listTags(path.cluster, path.namespace, query.image, caller, deps) }));
