import { AdmissionDecision, Cluster, DECISION_LOG_SIZE, DECISION_TTL_DAYS } from '../domain/admission.ts';
import { keys } from './keys.ts';
import type { TableOps } from './table.ts';

const itemOf = (cluster: Cluster) => ({ ...keys.cluster(cluster.cluster), entityType: 'Cluster', ...cluster });

/** Clusters of the admission webhook, and each one's decision log. */
export const clustersRepository = (ops: TableOps) => ({
  get: (cluster: string) => ops.get(Cluster, keys.cluster(cluster)),
  list: () => ops.queryAll(Cluster, keys.allClusters()),
  /** Creates the cluster; false when it exists already. */
  create: (cluster: Cluster) => ops.put(itemOf(cluster), { ConditionExpression: 'attribute_not_exists(pk)' }),
  /** Replaces its settings; the token and counters are kept. False when it is gone. */
  updateSettings: (cluster: Pick<Cluster, 'cluster' | 'displayName' | 'mode' | 'unmanagedImages' | 'exemptNamespaces' | 'updatedAt'>) =>
    ops.update(keys.cluster(cluster.cluster), {
      UpdateExpression: `SET #mode = :mode, unmanagedImages = :u, exemptNamespaces = :e, updatedAt = :at${cluster.displayName === undefined ? ' REMOVE displayName' : ', displayName = :d'}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#mode': 'mode' },
      ExpressionAttributeValues: {
        ':mode': cluster.mode,
        ':u': cluster.unmanagedImages,
        ':e': cluster.exemptNamespaces,
        ':at': cluster.updatedAt,
        ...(cluster.displayName === undefined ? {} : { ':d': cluster.displayName }),
      },
    }),
  /** A new token, if the token is still the one the caller read (two rotations never both win). */
  rotateToken: (cluster: string, rotation: { fromHash: string; hash: string; at: string; previousUntil: string }) =>
    ops.update(keys.cluster(cluster), {
      UpdateExpression: 'SET tokenHash = :hash, previousTokenHash = :from, previousTokenUntil = :until, tokenRotatedAt = :at, updatedAt = :at',
      ConditionExpression: 'tokenHash = :from',
      ExpressionAttributeValues: { ':hash': rotation.hash, ':from': rotation.fromHash, ':until': rotation.previousUntil, ':at': rotation.at },
    }),
  /** Forgets the cluster and its decision log. False when it was not there. */
  remove: async (cluster: string) => {
    const removed = await ops.remove(keys.cluster(cluster), { ConditionExpression: 'attribute_exists(pk)' });
    const slots = await ops.queryAll(AdmissionDecision, keys.admissionDecisions(cluster));
    await ops.batchWrite([], slots.map((d) => keys.admissionDecision(cluster, d.seq % DECISION_LOG_SIZE)));
    return removed;
  },
  /**
   * Records a refusal: counts it on the cluster (which numbers it), then writes it into its slot of the ring. Two
   * writes, no transaction: a crash between them loses one log entry, never the count. Undefined when the cluster is gone.
   */
  recordDecision: async (cluster: string, decision: Omit<AdmissionDecision, 'seq' | 'cluster'>): Promise<AdmissionDecision | undefined> => {
    const seq = await ops.increment(keys.cluster(cluster), 'refusals', { lastRefusalAt: decision.at });
    if (seq === undefined) return undefined;
    const stored: AdmissionDecision = { ...decision, cluster, seq };
    const expiresAt = Math.floor(Date.parse(decision.at) / 1000) + DECISION_TTL_DAYS * 86_400;
    await ops.put({ ...keys.admissionDecision(cluster, seq % DECISION_LOG_SIZE), entityType: 'AdmissionDecision', ...stored, expiresAt });
    return stored;
  },
  /** The log, newest first. */
  decisions: async (cluster: string) => (await ops.queryAll(AdmissionDecision, keys.admissionDecisions(cluster))).sort((a, b) => b.seq - a.seq),
});
