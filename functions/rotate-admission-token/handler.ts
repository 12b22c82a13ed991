import { withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { rotateAdmissionToken } from '../../shared/usecases/clusters.ts';

export const handler = withHttp(ROUTES['rotate-admission-token'], async (req, deps) => ({ status: 200, body: await rotateAdmissionToken(req.path.cluster, req.body, deps, req.ctx) }));
