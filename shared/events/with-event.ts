import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { EventDetail, type BusEvent } from '../../events/contract.ts';
import { ALL_EVENTS } from '../../events/index.ts';
import type { Deps } from '../deps.ts';
import { logContext, logger, logInvocation } from '../logger.ts';
import { flushMetrics } from '../metrics.ts';
import { getDeps } from '../runtime.ts';

/**
 * The one wrapper of bus consumers: validates the envelope and the data against the detail type's contract,
 * then hands the event to `handle`. Errors propagate, so the bus retries and finally dead-letters.
 */
export const withEvent = (handle: (event: BusEvent, deps: Deps) => Promise<void>) =>
  middy<EventBridgeEvent<string, unknown>, void>()
    .use(logInvocation())
    .handler(async (raw) => {
      const contract = ALL_EVENTS.find((c) => c.detailType === raw['detail-type']);
      if (!contract) throw new Error(`no contract for detail type ${raw['detail-type']}`);
      const detail = EventDetail.parse(raw.detail);
      if (detail.metadata.version !== contract.version)
        throw new Error(`${contract.detailType} version ${detail.metadata.version} is not ${contract.version}`);
      const event: BusEvent = { detailType: contract.detailType, detail: { metadata: detail.metadata, data: contract.data.parse(detail.data) } };
      logContext({ correlationId: detail.metadata.correlationId, eventId: detail.metadata.id, detailType: event.detailType });
      logger.debug('event', { detailType: event.detailType, id: detail.metadata.id, correlationId: detail.metadata.correlationId });
      try {
        await handle(event, getDeps());
      } finally {
        flushMetrics();
      }
    });

/** The one wrapper of scheduled functions. */
export const withSchedule = (name: string, run: (deps: Deps) => Promise<Record<string, unknown>>) =>
  middy<unknown, void>()
    .use(logInvocation())
    .handler(async () => {
      try {
        const result = await run(getDeps());
        logger.info('scheduled run done', { schedule: name, ...result });
      } finally {
        flushMetrics();
      }
    });
