import { withEventBatch } from '../../shared/events/with-event.ts';
import { handleIndexEvents } from '../../shared/index/indexer.ts';

export const handler = withEventBatch(handleIndexEvents);
