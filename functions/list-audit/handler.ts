import { parseInput, withHttp } from '../../shared/http/with-http.ts';
import { ListAuditQuery, listAudit } from '../../shared/usecases/audit.ts';

export const handler = withHttp('list-audit', async (req, deps) => {
  const query = parseInput(ListAuditQuery, req.query, 'query');
  return { status: 200, body: await listAudit(query, req.caller, deps) };
});
