import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { getAdmissionConfig } from '../../shared/usecases/admission-config.ts';

export const handler = withHttp(ROUTES['get-admission-config'], async ({ path, query }, deps) => ({ status: 200, body: await getAdmissionConfig(path.cluster, query, deps) }));
