import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SOURCE, type BusEvent } from '../../events/contract.ts';
import type { Bus } from './publisher.ts';

/** EventBridge adapter: PutEvents in batches of 10; any failed entry fails the publish (the sweep retries). */
export const createEventBridgeBus = (client: EventBridgeClient, busName: string): Bus => ({
  async put(events) {
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      const out = await client.send(
        new PutEventsCommand({
          Entries: batch.map((e) => ({ EventBusName: busName, Source: SOURCE, DetailType: e.detailType, Detail: JSON.stringify(e.detail) })),
        }),
      );
      if ((out.FailedEntryCount ?? 0) > 0) {
        const failed = out.Entries?.filter((e) => e.ErrorCode).map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`) ?? [];
        throw new Error(`EventBridge refused ${out.FailedEntryCount} of ${batch.length} events: ${failed.join('; ')}`);
      }
    }
  },
});
