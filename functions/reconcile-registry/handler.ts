import { withEvent } from '../../shared/events/with-event.ts';
import { handleSyncRequest } from '../../shared/usecases/reconcile.ts';

export const handler = withEvent(handleSyncRequest);
