import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export type EventQueueProps = {
  queueName: string;
  /** The function that polls the queue; its timeout sets the queue's visibility timeout. */
  consumer: LambdaFunction;
  /** Records per invocation (`Rule.batchSize`). */
  batchSize: number;
  /** Where a record ends that failed every receive (the function's DLQ). */
  deadLetterQueue: IQueue;
  alarmTopic: ITopic;
  /** The rule, for the alarm's description. */
  what: string;
};

/**
 * Receives of a record before it goes to the DLQ: a failed item is retried that many times, then dead-lettered, and
 * the DLQ alarms on it. A batch whose invocation was throttled comes back and counts too: AWS advises at least 5.
 */
export const MAX_RECEIVE_COUNT = 5;
/**
 * AWS's guidance for an SQS event source: a visibility timeout of at least 6× the function's timeout, which leaves
 * Lambda time to retry a throttled batch before its records become visible (and are received) again.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Lambda's timeout when none is set. */
const LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3);

/**
 * The queue between a batched bus rule (`Rule.batchSize`) and its function: EventBridge sends each matched event (the
 * envelope as the message body) to the queue, and the function polls it through an SQS event source, up to
 * `batchSize` records at a time, answering the failed ones (`batchItemFailures`), which alone come back. The rule's
 * target (`SqsQueue`) is the stack's: EventBridge may then send to the queue.
 */
export class EventQueue extends Construct {
  readonly queue: Queue;
  readonly ageAlarm: Alarm;

  constructor(scope: Construct, id: string, props: EventQueueProps) {
    super(scope, id);
    const timeout = props.consumer.timeout ?? LAMBDA_DEFAULT_TIMEOUT;
    this.queue = new Queue(this, 'Queue', {
      queueName: props.queueName,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * timeout.toSeconds()),
      // Shorter than the DLQ's 14 days: a dead-lettered message keeps its first enqueue time, and expires by it.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: props.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    // No batching window: it would delay every change by the window to fill a batch.
    props.consumer.addEventSource(new SqsEventSource(this.queue, { batchSize: props.batchSize, reportBatchItemFailures: true }));

    this.ageAlarm = new Alarm(this, 'Behind', {
      alarmName: `${props.queueName}-behind`,
      alarmDescription: `${props.what}: the oldest event in ${props.queueName} has waited 5 minutes or more for 5 minutes; the consumer is falling behind.`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 300,
      evaluationPeriods: 5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.ageAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
  }
}
