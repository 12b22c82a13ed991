import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { AdmissionReviewV1, reviewAdmission } from '../../shared/usecases/admission.ts';
import { authenticateCluster } from '../../shared/usecases/clusters.ts';

export const handler = withHttp(ROUTES['review-admission'], async (req, deps) => {
  // The token first: a malformed cluster name answers 401 like a wrong token, and nothing is read before it holds.
  const cluster = await authenticateCluster(req.path.cluster ?? '', req.headers.authorization, deps);
  const review = parseInput(AdmissionReviewV1, req.body, 'AdmissionReview');
  return { status: 200, body: await reviewAdmission(cluster, review, deps) };
});
