import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { listAdmissionDecisions } from '../../shared/usecases/clusters.ts';

export const handler = withHttp(ROUTES['list-admission-decisions'], async ({ path, query }, deps) => ({ status: 200, body: await listAdmissionDecisions(path.cluster, query, deps) }));
