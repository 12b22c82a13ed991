import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpNoneAuthorizer, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule as EventRule, type EventPattern } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { FilterPattern, LogGroup, LogGroupClass, MetricFilter, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { ADMISSION_REFUSALS_METRIC, ADMISSION_REFUSED_LOG } from '../../shared/domain/admission.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../shared/metrics.ts';
import { FUNCTIONS, INDEX_HOLD_SECONDS, INDEXER_FN, JWT_ACCESS, ROUTE_LIST, RULES, SCHEDULES, type Rule, type Schedule as TopologySchedule } from '../../shared/topology.ts';
import { EMBEDS, accessOf } from '../access.ts';
import { DeadLetterQueue } from '../constructs/dead-letter-queue.ts';
import { EventQueue, MAX_RECEIVE_COUNT } from '../constructs/event-queue.ts';
import { ServiceFunction } from '../constructs/service-function.ts';
import { acknowledgeAnonymousRoute, acknowledgeRuntime, acknowledgeSchedulerInvoke } from '../nag.ts';
import { stageName, type DeploySettings } from '../settings.ts';
import { eventPatternOf, pascal, rateOf } from '../wiring.ts';
import type { DataStack } from './data-stack.ts';

export type ServiceStackProps = StackProps & {
  settings: DeploySettings;
  data: Pick<DataStack, 'table' | 'bus' | 'secrets'>;
  /** Keep esbuild's metafile beside each bundle (bundle-size checks). */
  bundleMetafile?: boolean;
};

/** Lambda's own retries of an asynchronous invocation (bus rule or schedule) before the DLQ. */
const ASYNC_RETRIES = 2;

/**
 * EventBridge's retries of a rule's delivery to its target (throttling, an unavailable Lambda or queue), then the
 * DLQ. A handler's failures are retried by Lambda (asynchronous invocation) or by the queue (its receives).
 */
const RULE_DELIVERY = { retryAttempts: 20, maxEventAge: Duration.hours(6) };

/**
 * The stateless half, generated from `shared/topology.ts` (the tables the local runtime reads too): one house
 * function per entry point, the HTTP API's routes, the bus rules and the schedules, each asynchronous path with
 * retries, a DLQ and an alarm.
 */
export class ServiceStack extends Stack {
  readonly api: HttpApi;
  readonly functions = new Map<string, ServiceFunction>();
  readonly deadLetterQueues = new Map<string, DeadLetterQueue>();
  /** The queue of each batched rule (`Rule.batchSize`), by rule name. */
  readonly eventQueues = new Map<string, EventQueue>();
  readonly publicUrl: string;
  private readonly prefix: string;
  private readonly alarmTopic: Topic;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { settings, data } = props;
    this.prefix = stageName(settings);
    const retention = logRetention(settings.logRetentionDays);
    acknowledgeRuntime(this);

    this.alarmTopic = new Topic(this, 'Alarms', { topicName: `${this.prefix}-alarms`, enforceSSL: true });
    if (settings.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(settings.alarmEmail));
    this.api = this.httpApi(settings, retention);
    this.publicUrl = settings.publicUrl ?? this.api.apiEndpoint;

    for (const fn of FUNCTIONS) this.functions.set(fn, this.serviceFunction(fn, props, retention));
    this.addRoutes(settings);
    for (const rule of RULES) {
      const pattern = eventPatternOf(rule);
      new EventRule(this, `${pascal(rule.name)}Rule`, {
        ruleName: `${this.prefix}-${rule.name}`,
        eventBus: data.bus,
        eventPattern: { source: pattern.source, detailType: pattern['detail-type'] } satisfies EventPattern,
        targets: [this.targetOf(rule)],
      });
    }
    for (const schedule of SCHEDULES) this.addSchedule(schedule);
    this.addMetricsAndAlarms();

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'PublicUrl', { value: this.publicUrl, description: 'Base of the webhook URLs handed out' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }

  private httpApi(settings: DeploySettings, retention: RetentionDays) {
    const api = new HttpApi(this, 'Api', { apiName: this.prefix, createDefaultStage: false });
    // Infrequent Access: half the ingestion price; access logs are read with Logs Insights, never streamed or filtered.
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      logGroupName: `/aws/apigateway/${this.prefix}`,
      logGroupClass: LogGroupClass.INFREQUENT_ACCESS,
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new HttpStage(this, 'DefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: settings.apiRateLimit, burstLimit: settings.apiBurstLimit },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });
    return api;
  }

  /** One entry point's function, with exactly the access its rows declare (`cdk/access.ts`). */
  private serviceFunction(fn: string, { settings, data, bundleMetafile }: ServiceStackProps, retention: RetentionDays) {
    const access = accessOf(fn);
    const trigger = triggerOf(fn);
    const f = new ServiceFunction(this, pascal(fn), {
      fn,
      namePrefix: this.prefix,
      // HTTP: within API Gateway's 30 s (webhook handlers answer Harbor in well under its 3 s); schedules list whole registries.
      timeout: Duration.seconds(trigger === 'schedule' ? 300 : trigger === 'rule' ? 60 : 15),
      logRetention: retention,
      environment: {
        PUBLIC_URL: this.publicUrl,
        CLOCK_SKEW_SECONDS: String(settings.clockSkewSeconds),
        ROBOT_NAME_PREFIX: settings.robotNamePrefix,
        ROBOT_DURATION_DAYS: String(settings.robotDurationDays),
        AUDIT_TTL_DAYS: String(settings.auditTtlDays),
        ...(settings.registryDenyCidrs ? { REGISTRY_DENY_CIDRS: settings.registryDenyCidrs } : {}),
        ...(settings.registryAllowCidrs ? { REGISTRY_ALLOW_CIDRS: settings.registryAllowCidrs } : {}),
        // A space's holder stops taking handed-over work well within the 60 s timeout (`underLease`).
        ...(fn === INDEXER_FN ? { INDEX_HOLD_SECONDS: String(INDEX_HOLD_SECONDS) } : {}),
      },
      ...(EMBEDS[fn] ? { embed: EMBEDS[fn] } : {}),
      metafile: bundleMetafile ?? false,
      ...(RULES.some((r) => r.fn === fn && r.serial) ? { reservedConcurrency: 1 } : {}),
    });
    if (access.table) f.bindTable(data.table, access.table);
    if (access.publish) f.bindBus(data.bus);
    if (access.secrets?.length) f.bindSecret(data.secrets, access.secrets);
    f.nameUnbound({ TABLE_NAME: data.table.tableName, EVENT_BUS_NAME: data.bus.eventBusName });
    return f;
  }

  private fnOf(fn: string) {
    const f = this.functions.get(fn);
    if (!f) throw new Error(`no function ${fn}`);
    return f;
  }

  /** Every row of the route table, with the JWT authorizer where its access needs a token. */
  private addRoutes(settings: DeploySettings) {
    const jwt = new HttpJwtAuthorizer('Jwt', settings.oidcIssuer, {
      authorizerName: `${this.prefix}-jwt`,
      jwtAudience: settings.oidcAudience,
      identitySource: ['$request.header.Authorization'],
    });
    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const route of ROUTE_LIST) {
      let integration = integrations.get(route.fn);
      if (!integration) integrations.set(route.fn, (integration = new HttpLambdaIntegration(`${pascal(route.fn)}Integration`, this.fnOf(route.fn).function)));
      const [added] = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        authorizer: JWT_ACCESS[route.access] ? jwt : new HttpNoneAuthorizer(),
      });
      if (added && (route.access === 'public' || route.access === 'webhook')) acknowledgeAnonymousRoute(added, route.access);
    }
  }

  /** The DLQ of a function invoked asynchronously, shared by its triggers and by Lambda's own retries. */
  private deadLetterQueueOf(fn: string, what: string) {
    const known = this.deadLetterQueues.get(fn);
    if (known) return known;
    const { prefix, alarmTopic } = this;
    const dlq = new DeadLetterQueue(this, `${pascal(fn)}Dlq`, { queueName: `${prefix}-${fn}-dlq`, alarmTopic, what });
    const f = this.fnOf(fn);
    f.function.configureAsyncInvoke({ retryAttempts: ASYNC_RETRIES, maxEventAge: Duration.hours(6), onFailure: new SqsDestination(dlq.queue) });
    this.alarm(`${pascal(fn)}Errors`, {
      alarmName: `${prefix}-${fn}-errors`,
      alarmDescription: `${fn} failed repeatedly; an event is retried (${ASYNC_RETRIES} times by Lambda, or ${MAX_RECEIVE_COUNT} receives from its queue), then goes to ${prefix}-${fn}-dlq.`,
      metric: f.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 5,
    });
    this.deadLetterQueues.set(fn, dlq);
    return dlq;
  }

  /** A batched rule's target is a queue its function polls (`EventQueue`); any other rule's target is the function. */
  private targetOf(rule: Rule) {
    const deadLetterQueue = this.deadLetterQueueOf(rule.fn, `bus rule ${rule.name}`).queue;
    const consumer = this.fnOf(rule.fn).function;
    if (!rule.batchSize) return new LambdaFunction(consumer, { ...RULE_DELIVERY, deadLetterQueue });
    const queue = new EventQueue(this, `${pascal(rule.name)}Queue`, {
      queueName: `${this.prefix}-${rule.name}-queue`,
      consumer,
      batchSize: rule.batchSize,
      deadLetterQueue,
      alarmTopic: this.alarmTopic,
      what: `bus rule ${rule.name}`,
    });
    this.eventQueues.set(rule.name, queue);
    return new SqsQueue(queue.queue, { ...RULE_DELIVERY, deadLetterQueue });
  }

  private addSchedule(schedule: TopologySchedule) {
    const every = rateOf(schedule);
    const target = this.fnOf(schedule.fn).function;
    const role = new Role(this, `${pascal(schedule.name)}ScheduleRole`, {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
    });
    acknowledgeSchedulerInvoke(role, target.functionArn);
    new Schedule(this, `${pascal(schedule.name)}Schedule`, {
      scheduleName: `${this.prefix}-${schedule.name}`,
      description: `${schedule.fn} every ${schedule.everySeconds} s (shared/topology.ts)`,
      schedule: ScheduleExpression.rate(every),
      target: new LambdaInvoke(target, {
        role,
        input: ScheduleTargetInput.fromObject({ schedule: schedule.name }),
        // A run older than its period is superseded by the next one.
        retryAttempts: 3,
        maxEventAge: Duration.seconds(Math.max(60, Math.min(schedule.everySeconds, 86_400))),
        deadLetterQueue: this.deadLetterQueueOf(schedule.fn, `schedule ${schedule.name}`).queue,
      }),
    });
  }

  /** An alarm on a 5-minute sum, sent to the alarm topic; no data is no alarm. */
  private alarm(id: string, props: { alarmName: string; alarmDescription: string; metric: Metric; threshold: number }) {
    new Alarm(this, id, {
      ...props,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new SnsAction(this.alarmTopic));
  }

  private addMetricsAndAlarms() {
    // A batched consumer reports failed events instead of failing, so Lambda's errors miss them: the indexer's own count.
    this.alarm('IndexFailures', {
      alarmName: `${this.prefix}-index-failures`,
      alarmDescription: 'The indexer could not apply parts of its batches 5 times or more in 5 minutes (retried from its queue; GET /api/v1/status and its logs say which).',
      metric: new Metric({ namespace: METRICS_NAMESPACE, metricName: 'IndexFailures', dimensionsMap: { service: METRICS_SERVICE }, period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 5,
    });
    // One log line per refused review (audit mode: would-be refusal) → a count per cluster and mode.
    new MetricFilter(this, 'AdmissionRefusals', {
      logGroup: this.fnOf('review-admission').logGroup,
      metricNamespace: ADMISSION_REFUSALS_METRIC.namespace,
      metricName: ADMISSION_REFUSALS_METRIC.name,
      filterPattern: FilterPattern.stringValue('$.message', '=', ADMISSION_REFUSED_LOG),
      metricValue: '1',
      dimensions: { cluster: '$.cluster', mode: '$.mode' },
    });
    this.alarm('Api5xx', {
      alarmName: `${this.prefix}-api-5xx`,
      alarmDescription: 'The HTTP API answered 5xx to at least 10 requests in 5 minutes.',
      metric: this.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 10,
    });
  }
}

/** One line of JSON per request; never a header (the Authorization header holds tokens and webhook secrets). */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    time: '$context.requestTimeEpoch',
    routeKey: '$context.routeKey',
    status: '$context.status',
    latencyMs: '$context.responseLatency',
    integrationLatencyMs: '$context.integrationLatency',
    responseLength: '$context.responseLength',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
    sub: '$context.authorizer.claims.sub',
  }),
);

const triggerOf = (fn: string): 'route' | 'rule' | 'schedule' =>
  ROUTE_LIST.some((r) => r.fn === fn) ? 'route' : RULES.some((r) => r.fn === fn) ? 'rule' : 'schedule';

const logRetention = (days: number): RetentionDays => {
  const allowed = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number' && v > 0);
  const match = allowed.find((v) => v === days);
  if (!match) throw new Error(`logRetentionDays ${days} is not one CloudWatch Logs offers: ${allowed.sort((a, b) => a - b).join(', ')}`);
  return match;
};
