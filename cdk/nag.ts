import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';
import type { Access } from '../shared/topology.ts';

/**
 * Every cdk-nag (AwsSolutions) finding this app accepts, with the reason a reviewer reads. Each is acknowledged
 * on the narrowest construct that carries it; nothing is acknowledged app- or pack-wide, so a new finding
 * anywhere fails `cdk synth`.
 */
export const NAG_REASONS = {
  'AwsSolutions-L1':
    'Node.js 22 is the runtime this service is built and tested for (house style: Node 22, ARM64); nodejs22.x is supported by Lambda until its end of life in 2027. Moving to nodejs24.x is one line in cdk/constructs/service-function.ts once the suite runs on Node 24.',
  'AwsSolutions-APIG4:webhook':
    'Harbor and Docker Registry cannot obtain a JWT. The handler authenticates every call itself: `Authorization: Bearer <per-registry webhook secret>`, compared in constant time against a hash in the table; an unknown registry answers exactly like a wrong secret (401).',
  'AwsSolutions-APIG4:public':
    'Deliberately anonymous and read-only: the health probe, the OpenAPI document and the deploy UI page/assets. They return no tenant data (the UI calls the JWT-protected API with the user token), and the stage throttles them.',
  'AwsSolutions-IAM5:secrets':
    'Registry credentials are created at run time, one Secrets Manager secret per registry, so their ARNs cannot be known at deploy time. The grant is limited to this stage\'s name prefix (`image-registry/<stage>/*`) and to the single action the function needs (GetSecretValue, CreateSecret or DeleteSecret).',
  'AwsSolutions-IAM5:scheduler':
    'The EventBridge Scheduler role may invoke exactly one function; `<function ARN>:*` is how lambda grantInvoke covers that same function\'s versions and aliases. No other resource is reachable.',
  'AwsSolutions-SQS3':
    'This queue is itself a dead-letter queue: the on-failure destination of Lambda\'s asynchronous invocation and the DLQ of the EventBridge rule or Scheduler target. cdk-nag only recognises queues named in another queue\'s redrive policy. It is alarmed on its first message.',
} as const;

const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });

/** The IAM5 finding id cdk-nag reports for a wildcard resource, rendered as cdk-nag renders it. */
const wildcardResourceFinding = (scope: IConstruct, arn: string) =>
  `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(arn))}]`;

export const acknowledgeRuntime = (stack: Stack) => ack(stack, 'AwsSolutions-L1', NAG_REASONS['AwsSolutions-L1']);

export const acknowledgeAnonymousRoute = (route: IConstruct, access: Extract<Access, 'public' | 'webhook'>) =>
  ack(route, 'AwsSolutions-APIG4', NAG_REASONS[`AwsSolutions-APIG4:${access}`]);

export const acknowledgeSecretPrefix = (policyHolder: IConstruct, arnPattern: string) =>
  ack(policyHolder, wildcardResourceFinding(policyHolder, arnPattern), NAG_REASONS['AwsSolutions-IAM5:secrets']);

export const acknowledgeSchedulerInvoke = (role: IConstruct, functionArn: string) =>
  ack(role, wildcardResourceFinding(role, `${functionArn}:*`), NAG_REASONS['AwsSolutions-IAM5:scheduler']);

export const acknowledgeDeadLetterQueue = (queue: IConstruct) => ack(queue, 'AwsSolutions-SQS3', NAG_REASONS['AwsSolutions-SQS3']);
