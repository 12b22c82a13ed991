import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startAwsEndpoints, type AwsEndpoints } from './aws-endpoints.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    awsEndpoints: AwsEndpoints;
  }
}

/**
 * One set of AWS endpoints for the whole run, from the one provider: LocalStack when a container runtime
 * answers, DynamoDB Local otherwise. Every test file makes its own table (and bus, queue) in it.
 */
export default async function setup(project: TestProject) {
  const aws = await startAwsEndpoints();
  project.provide('dynamoEndpoint', aws.endpoints.dynamodb);
  project.provide('awsEndpoints', aws.endpoints);
  return () => aws.stop();
}
