import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger (structured JSON, Powertools); level from POWERTOOLS_LOG_LEVEL. */
export const logger = new Logger({ serviceName: 'image-registry' });
