import * as z from 'zod';
import { harborProjectSecret } from '../../shared/usecases/webhook-secrets.ts';
import { fixture } from './fixtures.ts';

type Resource = { digest: string; tag: string; resource_url: string };
type DefaultPayload = {
  type: string;
  occur_at: number;
  operator: string;
  event_data: { resources: Resource[]; repository: { date_created?: number; name: string; namespace: string; repo_full_name: string; repo_type: string } };
};

/** A Harbor Default-format artifact event, built from the real captured payload with other names. */
export const harborEvent = (
  type: 'PUSH_ARTIFACT' | 'DELETE_ARTIFACT',
  o: { host: string; project: string; repo: string; tag: string; digest: string; occurAt: number; repoType?: 'public' | 'private' },
): DefaultPayload => {
  const base = structuredClone(fixture('harbor/push_artifact.default.json')) as DefaultPayload;
  base.type = type;
  base.occur_at = o.occurAt;
  base.event_data.resources = [{ digest: o.digest, tag: o.tag, resource_url: `${o.host}/${o.project}/${o.repo}:${o.tag}` }];
  base.event_data.repository = {
    ...base.event_data.repository,
    name: o.repo,
    namespace: o.project,
    repo_full_name: `${o.project}/${o.repo}`,
    repo_type: o.repoType ?? 'private',
  };
  return base;
};

/** The Authorization header Harbor sends for `project`: the policy of each project carries that project's own secret. */
export const harborAuthorization = (webhookSecret: string, project: string) => `Bearer ${harborProjectSecret(webhookSecret, project)}`;

/** The project a Harbor payload is about (Default format), to sign it as Harbor would. */
export const projectOf = (body: unknown) => HarborProject.parse(body).event_data.repository.namespace;
const HarborProject = z.object({ event_data: z.object({ repository: z.object({ namespace: z.string() }) }) });
