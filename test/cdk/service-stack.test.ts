import type { Template } from 'aws-cdk-lib/assertions';
import { METRICS_NAMESPACE, METRICS_SERVICE, metrics } from '../../shared/metrics.ts';
import type { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ACCESS, accessOf, functionAccess } from '../../cdk/access.ts';
import { SECRET_ACTIONS } from '../../cdk/constructs/registry-secrets.ts';
import { TABLE_ACTIONS } from '../../cdk/constructs/service-function.ts';
import { eventPatternOf, rateOf, routeKey } from '../../cdk/wiring.ts';
import { readConfig } from '../../shared/config.ts';
import { ADMISSION_REFUSALS_METRIC, ADMISSION_REFUSED_LOG } from '../../shared/domain/admission.ts';
import { TABLE_INDEXES } from '../../shared/store/keys.ts';
import { FUNCTIONS, ROUTE_LIST, RULES, SCHEDULES } from '../../shared/topology.ts';
import { TEST_CONTEXT, only, resourcesOf, statementPairs, synthApp, templatesOf } from './synth.ts';

/** What an SQS event source needs of its queue. */
const CONSUME_ACTIONS = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];

/** Data-plane services: no wildcard may reach them. */
const DATA_SERVICES = ['dynamodb', 'events', 'secretsmanager', 'sqs', 'lambda', 'sns'];

describe('the stateless stack', () => {
  let built: ReturnType<typeof synthApp>;
  let service: Template;
  const fnName = (fn: string) => `image-registry-test-${fn}`;
  const functionOf = (fn: string) => only(service, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === fnName(fn), fn);
  const asyncFunctions = [...new Set([...RULES.map((r) => r.fn), ...SCHEDULES.map((s) => s.fn)])];
  const idOf = (construct: IConstruct | undefined) => built.service.getLogicalId(construct?.node.defaultChild as CfnResource);

  beforeAll(() => {
    built = synthApp();
    service = templatesOf(built).service;
  });

  it('has one house function per entry point of the topology: Node 22 on ARM64, ESM handler, own log group with retention', () => {
    expect(Object.keys(resourcesOf(service, 'AWS::Lambda::Function')).length).toBe(FUNCTIONS.length);
    for (const fn of FUNCTIONS) {
      const { resource } = functionOf(fn);
      expect(resource.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect(resource.Properties.LoggingConfig, fn).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN' });
      const logGroupId = (resource.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(service.toJSON().Resources[logGroupId].Properties).toEqual({ LogGroupName: `/aws/lambda/${fnName(fn)}`, RetentionInDays: 30 });
    }
  });

  it('runs the targets of serial rules (pull access) one invocation at a time; the indexer (leases per space) and the rest run in parallel', () => {
    const serial = new Set(RULES.filter((r) => r.serial).map((r) => r.fn));
    expect(serial.has('sync-pull-access')).toBe(true);
    expect(serial.has('index-changes')).toBe(false);
    const indexerEnv = (functionOf('index-changes').resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Number(indexerEnv.INDEX_HOLD_SECONDS)).toBeLessThan(60);
    for (const fn of FUNCTIONS)
      expect(functionOf(fn).resource.Properties.ReservedConcurrentExecutions, fn).toBe(serial.has(fn) ? 1 : undefined);
  });

  it('gives every function an environment readConfig accepts, Powertools settings, and never a credential', () => {
    for (const fn of FUNCTIONS) {
      const env = (functionOf(fn).resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      // Intrinsics resolve at deploy time; a stand-in of the right shape is enough for the schema.
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : k === 'PUBLIC_URL' ? 'https://api.example.com' : `deployed-${k}`]));
      expect(() => readConfig(resolved), fn).not.toThrow();
      expect(resolved).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'image-registry', POWERTOOLS_LOGGER_LOG_EVENT: 'false', NODE_OPTIONS: '--enable-source-maps' });
      expect(Object.keys(env).filter((k) => /PASSWORD|SECRET(?!S_)|TOKEN|CREDENTIAL|KEY/i.test(k)), fn).toEqual([]);
      expect(env.TABLE_NAME, fn).toBeDefined();
      expect(env.EVENT_BUS_NAME, fn).toBeDefined();
      expect(env.SECRETS_PREFIX, fn).toBe(accessOf(fn).secrets?.length ? 'image-registry/test' : undefined);
    }
  });

  it('routes exactly the route table, each to its function, JWT-authorized unless a webhook or public', () => {
    const routes = Object.values(resourcesOf(service, 'AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(ROUTE_LIST.map(routeKey).sort());
    const integrations = service.toJSON().Resources;
    for (const route of ROUTE_LIST) {
      const cfn = routes.find((r) => r.Properties.RouteKey === routeKey(route));
      const integrationId = JSON.stringify(cfn?.Properties.Target).match(/"Ref":"(\w+)"/)?.[1] ?? '';
      expect(JSON.stringify(integrations[integrationId].Properties.IntegrationUri), routeKey(route)).toContain(functionOf(route.fn).logicalId);
      expect(integrations[integrationId].Properties.PayloadFormatVersion).toBe('2.0');
      const jwt = route.access !== 'public' && route.access !== 'webhook';
      expect(cfn?.Properties.AuthorizationType, routeKey(route)).toBe(jwt ? 'JWT' : 'NONE');
    }
    service.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: TEST_CONTEXT.oidcIssuer, Audience: ['image-registry', 'deploy-ui'] },
    });
  });

  it('logs every request without headers and throttles the stage', () => {
    const { resource } = only(service, 'AWS::ApiGatewayV2::Stage', () => true, 'the stage');
    expect(resource.Properties).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 2000, ThrottlingBurstLimit: 1000 } });
    const format = (resource.Properties.AccessLogSettings as { Format: string }).Format;
    expect(JSON.parse(format)).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status' });
    expect(format).not.toMatch(/header|authorization/i);
    service.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/apigateway/image-registry-test', LogGroupClass: 'INFREQUENT_ACCESS', RetentionInDays: 30 });
  });

  it('counts admission refusals from the admission function’s own log lines, per cluster and mode', () => {
    const { resource } = only(service, 'AWS::Logs::MetricFilter', () => true, 'the admission metric filter');
    const logGroups = resourcesOf(service, 'AWS::Logs::LogGroup');
    const [target] = Object.entries(logGroups).filter(([, g]) => g.Properties.LogGroupName === `/aws/lambda/${fnName('review-admission')}`);
    expect(resource.Properties.LogGroupName).toEqual({ Ref: target?.[0] });
    expect(resource.Properties.FilterPattern).toBe(`{ $.message = "${ADMISSION_REFUSED_LOG}" }`);
    expect(resource.Properties.MetricTransformations).toEqual([
      {
        MetricNamespace: ADMISSION_REFUSALS_METRIC.namespace,
        MetricName: ADMISSION_REFUSALS_METRIC.name,
        MetricValue: '1',
        Dimensions: [
          { Key: 'cluster', Value: '$.cluster' },
          { Key: 'mode', Value: '$.mode' },
        ],
      },
    ]);
  });

  it('wires every bus rule from the rule table: the service source, its detail types, its function (a batched rule: its queue), retries and a DLQ', () => {
    const rules = Object.values(resourcesOf(service, 'AWS::Events::Rule'));
    expect(rules.length).toBe(RULES.length);
    expect(RULES.some((r) => r.batchSize) && RULES.some((r) => !r.batchSize)).toBe(true);
    for (const rule of RULES) {
      const cfn = rules.find((r) => r.Properties.Name === `image-registry-test-${rule.name}`);
      expect(cfn?.Properties.EventPattern, rule.name).toEqual(eventPatternOf(rule));
      expect(JSON.stringify(cfn?.Properties.EventBusName)).toContain(built.data.getLogicalId(built.data.bus.node.defaultChild as CfnResource));
      const [target, ...others] = cfn?.Properties.Targets as { Arn: unknown; RetryPolicy?: object; DeadLetterConfig?: { Arn: unknown } }[];
      expect(others).toEqual([]);
      const queue = built.service.eventQueues.get(rule.name);
      expect(queue !== undefined, rule.name).toBe(rule.batchSize !== undefined);
      expect(target?.Arn, rule.name).toEqual({ 'Fn::GetAtt': [queue ? idOf(queue.queue) : functionOf(rule.fn).logicalId, 'Arn'] });
      expect(target?.RetryPolicy).toMatchObject({ MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) });
      expect(target?.DeadLetterConfig?.Arn).toEqual({ 'Fn::GetAtt': [idOf(built.service.deadLetterQueues.get(rule.fn)?.queue), 'Arn'] });
    }
  });

  it('puts a queue between each batched rule and its function: polled in batches of the rule’s size, failed items alone retried, then the DLQ', () => {
    const batched = RULES.filter((r) => r.batchSize);
    expect(batched.map((r) => r.fn)).toContain('index-changes');
    const mappings = Object.values(resourcesOf(service, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings.length).toBe(batched.length);
    const resources = service.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
    const policies = Object.values(resourcesOf(service, 'AWS::SQS::QueuePolicy'));
    const alarms = Object.values(resourcesOf(service, 'AWS::CloudWatch::Alarm'));
    for (const rule of batched) {
      const queueId = idOf(built.service.eventQueues.get(rule.name)?.queue);
      const mapping = mappings.find((m) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }));
      expect(mapping?.Properties, rule.name).toMatchObject({
        FunctionName: { Ref: functionOf(rule.fn).logicalId },
        BatchSize: rule.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      // A batching window would hold every change back until it closes.
      expect(mapping?.Properties.MaximumBatchingWindowInSeconds ?? 0).toBe(0);

      const queue = resources[queueId]?.Properties ?? {};
      // AWS's guidance for an SQS event source: a visibility timeout of at least 6× the function's timeout.
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * Number(functionOf(rule.fn).resource.Properties.Timeout));
      expect(queue).toMatchObject({
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [idOf(built.service.deadLetterQueues.get(rule.fn)?.queue), 'Arn'] }, maxReceiveCount: 5 },
      });

      // EventBridge may send to it, from this rule only; nobody may use it without TLS.
      const policy = policies.find((p) => JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: queueId }]));
      const statements = (policy?.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      const ruleId = only(service, 'AWS::Events::Rule', (r) => r.Properties.Name === `image-registry-test-${rule.name}`, rule.name).logicalId;
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Action: expect.arrayContaining(['sqs:SendMessage']),
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
        }),
      );

      // The consumer falling behind alarms.
      const behind = alarms.find((a) => a.Properties.MetricName === 'ApproximateAgeOfOldestMessage' && JSON.stringify(a.Properties.Dimensions).includes(`"${queueId}"`));
      expect(behind?.Properties, rule.name).toMatchObject({ Threshold: 300, EvaluationPeriods: 5, Period: 60, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect((behind?.Properties.AlarmActions as unknown[]).length).toBe(1);
    }
  });

  it('schedules every entry of the schedule table with EventBridge Scheduler at its rate, with retries and a DLQ', () => {
    const schedules = Object.values(resourcesOf(service, 'AWS::Scheduler::Schedule'));
    expect(schedules.length).toBe(SCHEDULES.length);
    for (const schedule of SCHEDULES) {
      const cfn = schedules.find((s) => s.Properties.Name === `image-registry-test-${schedule.name}`);
      const minutes = rateOf(schedule).toMinutes();
      expect(cfn?.Properties.ScheduleExpression, schedule.name).toBe(
        minutes % 1440 === 0 ? `rate(${minutes / 1440} day${minutes === 1440 ? '' : 's'})` : minutes % 60 === 0 ? `rate(${minutes / 60} hour${minutes === 60 ? '' : 's'})` : `rate(${minutes} minute${minutes === 1 ? '' : 's'})`,
      );
      const target = cfn?.Properties.Target as { Arn: unknown; RetryPolicy?: object; DeadLetterConfig?: { Arn: unknown } };
      expect(JSON.stringify(target.Arn)).toContain(functionOf(schedule.fn).logicalId);
      expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: expect.any(Number) });
      expect(JSON.stringify(target.DeadLetterConfig?.Arn)).toContain('Dlq');
    }
  });

  it("alarms on the indexer's own failure count, the EMF metric its handler emits (a batch's failed events are not Lambda errors)", () => {
    const alarm = Object.values(resourcesOf(service, 'AWS::CloudWatch::Alarm')).find((a) => a.Properties.MetricName === 'IndexFailures');
    expect(alarm?.Properties).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }], Statistic: 'Sum', Threshold: 5 });
    expect((alarm?.Properties.AlarmActions as unknown[]).length).toBe(1);
    // The handler emits it under that very namespace and service.
    expect(metrics).toMatchObject({ namespace: METRICS_NAMESPACE });
  });

  it('retries every asynchronous invocation and sends what still fails to an encrypted, TLS-only DLQ with an alarm on its first message', () => {
    const configs = Object.values(resourcesOf(service, 'AWS::Lambda::EventInvokeConfig'));
    expect(configs.length).toBe(asyncFunctions.length);
    const alarms = Object.values(resourcesOf(service, 'AWS::CloudWatch::Alarm'));
    for (const fn of asyncFunctions) {
      const dlq = built.service.deadLetterQueues.get(fn);
      expect(dlq, fn).toBeDefined();
      const queueId = built.service.getLogicalId(dlq?.queue.node.defaultChild as CfnResource);
      const config = configs.find((c) => JSON.stringify(c.Properties.FunctionName).includes(functionOf(fn).logicalId));
      expect(config?.Properties).toMatchObject({ MaximumRetryAttempts: 2 });
      expect(JSON.stringify(config?.Properties.DestinationConfig)).toContain(queueId);
      expect(service.toJSON().Resources[queueId].Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      const alarm = alarms.find((a) => JSON.stringify(a.Properties.Dimensions).includes(queueId));
      expect(alarm?.Properties, fn).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect((alarm?.Properties.AlarmActions as unknown[]).length).toBe(1);
    }
    const policies = Object.values(resourcesOf(service, 'AWS::SQS::QueuePolicy'));
    // One per DLQ and one per batched rule's queue.
    expect(policies.length).toBe(asyncFunctions.length + RULES.filter((r) => r.batchSize).length);
    for (const policy of policies)
      expect(statementPairs((policy.Properties.PolicyDocument as { Statement: unknown }).Statement)).toContainEqual(
        expect.objectContaining({ effect: 'Deny', action: 'sqs:*' }),
      );
  });

  it('grants each function exactly what its access profile says, on named resources only', () => {
    const resources = service.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const tableId = built.data.getLogicalId(built.data.table.node.defaultChild as CfnResource);
    const busId = built.data.getLogicalId(built.data.bus.node.defaultChild as CfnResource);
    const classify = (fn: string, resource: string) => {
      const own = built.service.functions.get(fn);
      const logsId = built.service.getLogicalId(own?.node.findChild('Logs').node.defaultChild as CfnResource);
      const dlq = built.service.deadLetterQueues.get(fn);
      if (resource.includes(logsId)) return 'own log group';
      if (resource.includes('secretsmanager') && resource.includes(':secret:image-registry/test/*')) return 'registry secrets';
      const index = /\/index\/(\w+)"/.exec(resource)?.[1];
      if (resource.includes(tableId)) return index ? `index ${index}` : 'table';
      if (resource.includes(busId)) return 'bus';
      if (dlq && resource.includes(idOf(dlq.queue))) return 'own DLQ';
      const polled = RULES.filter((r) => r.fn === fn && r.batchSize).map((r) => idOf(built.service.eventQueues.get(r.name)?.queue));
      if (polled.some((id) => resource.includes(`"${id}"`))) return 'own event queue';
      return `unexpected ${resource}`;
    };
    for (const fn of FUNCTIONS) {
      const access = accessOf(fn);
      const roleId = built.service.getLogicalId(built.service.functions.get(fn)?.role.node.defaultChild as CfnResource);
      const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId));
      const granted = policies.flatMap((p) => statementPairs((p.Properties.PolicyDocument as { Statement: unknown }).Statement));
      const actual = [...new Set(granted.map((g) => `${g.effect} ${g.action} on ${classify(fn, g.resource)}`))].sort();
      const expected = [
        'Allow logs:CreateLogStream on own log group',
        'Allow logs:PutLogEvents on own log group',
        ...(access.table ? TABLE_ACTIONS[access.table].map((a) => `Allow ${a} on table`) : []),
        ...(access.table ? Object.values(TABLE_INDEXES).map((g) => `Allow dynamodb:Query on index ${g.name}`) : []),
        ...(access.publish ? ['Allow events:PutEvents on bus'] : []),
        ...(access.secrets ?? []).map((a) => `Allow secretsmanager:${{ read: 'GetSecretValue', create: 'CreateSecret', delete: 'DeleteSecret' }[a]} on registry secrets`),
        ...(asyncFunctions.includes(fn) ? ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].map((a) => `Allow ${a} on own DLQ`) : []),
        ...(RULES.some((r) => r.fn === fn && r.batchSize) ? CONSUME_ACTIONS.map((a) => `Allow ${a} on own event queue`) : []),
      ].sort();
      expect(actual, fn).toEqual(expected);
      expect(resources[roleId]?.Properties.ManagedPolicyArns, fn).toBeUndefined();
    }
  });

  it('grants no wildcard action anywhere and no wildcard resource on a data service', () => {
    const documents = [
      ...Object.values(resourcesOf(service, 'AWS::IAM::Policy')).map((p) => p.Properties.PolicyDocument),
      ...Object.values(resourcesOf(service, 'AWS::IAM::Role')).flatMap((r) => ((r.Properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((p) => p.PolicyDocument)),
    ] as { Statement: unknown }[];
    expect(documents.length).toBeGreaterThan(FUNCTIONS.length);
    for (const pair of documents.flatMap((d) => statementPairs(d.Statement)).filter((p) => p.effect === 'Allow')) {
      expect(pair.action, JSON.stringify(pair)).not.toContain('*');
      expect(pair.resource, JSON.stringify(pair)).not.toBe('"*"');
      if (DATA_SERVICES.includes(pair.action.split(':')[0] ?? '') && pair.resource.includes('*'))
        // The only wildcards: this stage's secret prefix (ARNs made at run time) and `<function ARN>:*` (its versions).
        expect(pair.resource, JSON.stringify(pair)).toMatch(/:secret:image-registry\/test\/\*"|"Fn::GetAtt":\["\w+Function\w+","Arn"\]},":\*"/);
    }
  });

  it('takes the access of each function from its rows, refuses rows of one function that disagree, and finds a handler for every function', async () => {
    const { existsSync } = await import('node:fs');
    for (const fn of FUNCTIONS) expect(FUNCTION_ACCESS[fn], fn).toBeDefined();
    for (const fn of Object.keys(FUNCTION_ACCESS)) expect(existsSync(new URL(`../../functions/${fn}/handler.ts`, import.meta.url)), fn).toBe(true);
    expect(functionAccess([{ fn: 'f', iam: { table: 'read', secrets: ['read', 'create'] } }, { fn: 'f', iam: { table: 'read', secrets: ['create', 'read'] } }])).toEqual({ f: { table: 'read', secrets: ['read', 'create'] } });
    expect(() => functionAccess([{ fn: 'f', iam: { table: 'read' } }, { fn: 'f', iam: { table: 'write' } }])).toThrow(/function f .* different access/);
  });

  it('grants exactly the SDK commands the AWS adapters send: the table, the bus, the secret store', async () => {
    const { readFileSync } = await import('node:fs');
    const commands = (file: string) => [...readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8').matchAll(/new (\w+)Command\(/g)].map((m) => m[1] ?? '');
    const dynamodb: Record<string, string> = { Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', Query: 'Query', BatchWrite: 'BatchWriteItem', BatchGet: 'BatchGetItem' };
    const sent = commands('shared/store/table.ts').map((c) => `dynamodb:${dynamodb[c] ?? `${c} (not granted: add it to TABLE_ACTIONS)`}`);
    expect([...new Set(sent)].sort()).toEqual([...TABLE_ACTIONS.write].sort());
    expect(commands('shared/events/eventbridge-bus.ts').map((c) => `events:${c}`)).toEqual(['events:PutEvents']);
    expect(commands('shared/secrets/secrets-manager-store.ts').map((c) => `secretsmanager:${c}`).sort()).toEqual(Object.values(SECRET_ACTIONS).sort());
  });
});
