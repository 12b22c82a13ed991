import { buildUiSync } from '../web/build.ts';

export type SecretAction = 'read' | 'create' | 'delete';

/**
 * What one function may touch in AWS, decided by reading its use case: the binders turn this into IAM
 * statements and env vars, nothing more. `table: 'write'` includes reading.
 */
export type FunctionAccess = {
  table?: 'read' | 'write';
  /** PutEvents on the service's bus. */
  publish?: true;
  /** Registry secrets under the stage's prefix: read (open), create (seal), delete (remove). */
  secrets?: readonly SecretAction[];
  /** Free identifiers replaced at bundle time (esbuild `inject`), each by a string value. */
  embed?: () => Record<string, string>;
};

const read: FunctionAccess = { table: 'read' };
const write: FunctionAccess = { table: 'write' };
const writeAndPublish: FunctionAccess = { table: 'write', publish: true };
/** Talks to Harbor with the registry's credentials, so opens its secret. */
const harborCall: FunctionAccess = { table: 'write', publish: true, secrets: ['read'] };

/**
 * Least privilege per function, keyed by its folder under `functions/`. A function the topology wires but this
 * table does not know stops the synth: its access is a decision someone has to make, never a default.
 */
export const FUNCTION_ACCESS: Readonly<Record<string, FunctionAccess>> = {
  'get-health': {},
  'get-openapi': {},
  'get-ui': { embed: () => ({ __DEPLOY_UI_ASSETS__: JSON.stringify(buildUiSync()) }) },
  // Reads the marks' GSI, the index's bookkeeping item and the registries.
  'get-status': read,
  // Reads the audit trail's day partitions.
  'list-audit': read,

  'create-registry': { table: 'write', publish: true, secrets: ['create'] },
  // The same use case, for a registry a workspace owns.
  'create-workspace-registry': { table: 'write', publish: true, secrets: ['create'] },
  'list-registries': read,
  'get-registry': read,
  // Checks new credentials against the registry and seals them in new items (the old ones removed); a host change
  // publishes the index repair; a Harbor's webhook policies are registered again with its credentials.
  'update-registry': { table: 'write', publish: true, secrets: ['read', 'create', 'delete'] },
  // Marks its pull grants for retirement (sync-pull-access deletes the robots, then the registry's secrets).
  'delete-registry': { table: 'write', publish: true, secrets: ['delete'] },
  // Shows no secret: only the registration and rotation answers do.
  'get-webhook-config': read,
  // Seals a new secret version, removes the old one, and re-registers Harbor's policies with the credentials.
  'rotate-webhook-secret': { table: 'write', secrets: ['read', 'create', 'delete'] },
  // Queues a RegistrySyncRequested; reconcile-registry does the work.
  'sync-registry': { table: 'read', publish: true },

  'list-spaces': read,
  'get-space': read,
  // Creating a space first purges a deleted space's tombstone (re-derives its index rows).
  'create-space': harborCall,
  'update-space': harborCall,
  'delete-space': harborCall,
  'preview-space-change': read,
  'list-bindings': read,
  'bind-space': writeAndPublish,
  'unbind-space': writeAndPublish,

  'list-workspaces': read,
  'put-workspace': write,
  'get-workspace': read,
  'delete-workspace': write,
  // Marks the workspace's grants and queues their rotation; sync-pull-access talks to Harbor.
  'rotate-pull-credentials': writeAndPublish,

  'list-namespaces': read,
  'list-my-namespaces': read,
  'put-namespace': writeAndPublish,
  'get-namespace': read,
  'delete-namespace': writeAndPublish,
  'list-images': read,
  'list-tags': read,
  'explain-image': read,
  // Opens the robots' secrets and the Docker Registry pull credentials it hands out (after the ETag check).
  'get-pull-secret': { table: 'read', secrets: ['read'] },

  // Clusters keep only a hash of their admission token: no secret store.
  'list-clusters': read,
  'put-cluster': write,
  'get-cluster': read,
  'delete-cluster': write,
  'get-admission-config': read,
  'rotate-admission-token': write,
  'list-admission-decisions': read,
  // Reads the index and the truth; writes only the refusal count and the decision log.
  'review-admission': write,

  // Harbor: each project's secret is derived from the registry's, so the webhook opens it (cached a minute).
  // Docker Registry: a hash of the secret kept in the table is compared; Secrets Manager is never opened.
  'receive-harbor-webhook': { table: 'write', publish: true, secrets: ['read'] },
  'receive-distribution-webhook': writeAndPublish,

  // The indexer only re-derives rows from the truth; it publishes nothing.
  'index-changes': write,
  // Reads old pending marks and re-emits their events, recording them in the audit trail again; the indexer clears the marks.
  'sweep-pending': { table: 'write', publish: true },
  // Lists one registry with its credentials and repairs the truth (and Harbor's webhook policies).
  'reconcile-registry': harborCall,
  // Asks for one reconcile per registry on the bus.
  'reconcile-registries': { table: 'read', publish: true },
  // Re-derives every audience from the truth; publishes nothing.
  'reindex-all': write,
  // Converges the Harbor robots with the registry's credentials; seals each new robot secret, removes the old one
  // (and a removed registry's secrets once its last robot is gone).
  'sync-pull-access': { table: 'write', secrets: ['read', 'create', 'delete'] },
  // Queues a rotation for each robot whose life is running out.
  'rotate-expiring-robots': { table: 'read', publish: true },
};

export const accessOf = (fn: string): FunctionAccess => {
  const access = FUNCTION_ACCESS[fn];
  if (!access)
    throw new Error(
      `function ${fn} is wired in shared/topology.ts but has no access profile: declare what it reads, writes, publishes and which secrets it opens in cdk/access.ts`,
    );
  return access;
};
