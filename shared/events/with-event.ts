import middy from '@middy/core';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EventDetail, type BusEvent } from '../../events/contract.ts';
import { ALL_EVENTS } from '../../events/index.ts';
import type { Deps } from '../deps.ts';
import { logContext, logger, logInvocation } from '../logger.ts';
import { flushMetrics } from '../metrics.ts';
import { getDeps } from '../runtime.ts';

/** An envelope checked against its detail type's contract: the event it carries, its data parsed. */
const eventOf = (raw: EventBridgeEvent<string, unknown>): BusEvent => {
  const contract = ALL_EVENTS.find((c) => c.detailType === raw['detail-type']);
  if (!contract) throw new Error(`no contract for detail type ${raw['detail-type']}`);
  const detail = EventDetail.parse(raw.detail);
  if (detail.metadata.version !== contract.version) throw new Error(`${contract.detailType} version ${detail.metadata.version} is not ${contract.version}`);
  return { detailType: contract.detailType, detail: { metadata: detail.metadata, data: contract.data.parse(detail.data) } };
};

/**
 * The one wrapper of bus consumers: validates the envelope and the data against the detail type's contract,
 * then hands the event to `handle`. Errors propagate, so the bus retries and finally dead-letters.
 */
export const withEvent = (handle: (event: BusEvent, deps: Deps) => Promise<void>) =>
  middy<EventBridgeEvent<string, unknown>, void>()
    .use(logInvocation())
    .handler(async (raw) => {
      const event = eventOf(raw);
      const { id, correlationId } = event.detail.metadata;
      logContext({ correlationId, eventId: id, detailType: event.detailType });
      logger.debug('event', { detailType: event.detailType, id, correlationId });
      try {
        await handle(event, getDeps());
      } finally {
        flushMetrics();
      }
    });

/** An event of a batch, with the id of the record that carried it. */
export type BatchItem = { itemId: string; event: BusEvent };

/**
 * The wrapper of consumers that take batches (a rule's `batchSize`): each record's body is an envelope, checked
 * as `withEvent` checks one; `handle` answers the ids of the events it could not apply, and the answer lists them
 * with the records that could not be read, so those alone are retried (then dead-lettered: a record that cannot be
 * read fails alone).
 */
export const withEventBatch = (handle: (items: readonly BatchItem[], deps: Deps) => Promise<readonly string[]>) =>
  middy<SQSEvent, SQSBatchResponse>()
    .use(logInvocation())
    .handler(async ({ Records }) => {
      const unreadable: string[] = [];
      const items = Records.flatMap((record): BatchItem[] => {
        try {
          return [{ itemId: record.messageId, event: eventOf(JSON.parse(record.body) as EventBridgeEvent<string, unknown>) }];
        } catch (error) {
          logger.error('bus record unreadable; left to the dead-letter queue', { messageId: record.messageId, error: String(error).slice(0, 300) });
          unreadable.push(record.messageId);
          return [];
        }
      });
      logContext({ correlationIds: [...new Set(items.map((i) => i.event.detail.metadata.correlationId))].slice(0, 10).join(','), events: String(items.length) });
      try {
        const failed = await handle(items, getDeps());
        return { batchItemFailures: [...unreadable, ...failed].map((itemIdentifier) => ({ itemIdentifier })) };
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
