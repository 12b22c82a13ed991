import { withEvent } from '../../shared/events/with-event.ts';
import { handleIndexEvent } from '../../shared/index/indexer.ts';

export const handler = withEvent(handleIndexEvent);
