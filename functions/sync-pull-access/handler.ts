import { withEvent } from '../../shared/events/with-event.ts';
import { handlePullAccessEvent } from '../../shared/usecases/pull-access.ts';

export const handler = withEvent(async (event, deps) => {
  await handlePullAccessEvent(event, deps);
});
