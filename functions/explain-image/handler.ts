import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { explainImage } from '../../shared/usecases/explain.ts';

export const handler = withHttp(ROUTES['explain-image'], async ({ path, query, caller }, deps) => ({ status: 200, body: await explainImage(path.cluster, path.namespace, query.image, caller, deps) }));
