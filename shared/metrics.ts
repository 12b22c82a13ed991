import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { inLambda } from './logger.ts';

/**
 * CloudWatch metrics of the indexer, as EMF lines in Lambda (`PlatformImageRegistry` namespace, the same as the
 * admission refusals). The embedded runtime shows the same figures at `GET /api/v1/status` instead.
 */
export const METRICS_NAMESPACE = 'PlatformImageRegistry';
export const METRICS_SERVICE = 'image-registry';
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

export type MetricName =
  /** Batches a space's holder applied, and the repositories or whole spaces in them. */
  | 'IndexBatchesApplied'
  | 'IndexRepositoriesApplied'
  | 'IndexSpacesRederived'
  /** Events handed to a space's holder instead of being applied on their own (coalesced). */
  | 'IndexEventsCoalesced'
  /** Parts of a re-derivation that failed (retried). */
  | 'IndexFailures'
  /** The oldest pending change's age, and how many are pending (the sweep's view). */
  | 'IndexLagSeconds'
  | 'IndexPendingChanges'
  /** Rows the last full repair found wrong. */
  | 'IndexDrift';

export const metric = (name: MetricName, value: number, unit: (typeof MetricUnit)[keyof typeof MetricUnit] = MetricUnit.Count) => {
  if (inLambda()) metrics.addMetric(name, unit, value);
};
export const seconds = MetricUnit.Seconds;

/** Emits what this invocation recorded (the wrappers call it once their handler is done). */
export const flushMetrics = () => {
  if (inLambda() && metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
};
