import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj } from '@middy/core';

/** The one logger (structured JSON, Powertools); level from POWERTOOLS_LOG_LEVEL. */
export const logger = new Logger({ serviceName: 'image-registry' });

/**
 * In Lambda (one invocation at a time per process), every log line carries the invocation's context and the keys
 * given to `logContext`. Not in the embedded runtime: its handlers run concurrently in one process and would mix them.
 */
export const inLambda = () => !!process.env.AWS_LAMBDA_FUNCTION_NAME;

/** The middy middleware of every wrapper: the Lambda context on each line, and keys reset after the invocation. */
export const logInvocation = (): MiddlewareObj => (inLambda() ? (injectLambdaContext(logger, { resetKeys: true }) as MiddlewareObj) : { before: () => undefined });

/** Adds keys (the request's or event's `correlationId`) to every log line of this invocation. */
export const logContext = (keys: Record<string, string>) => {
  if (inLambda()) logger.appendKeys(keys);
};
