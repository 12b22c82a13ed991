import { withSchedule } from '../../shared/events/with-event.ts';
import { sweepPending } from '../../shared/usecases/sweep.ts';

export const handler = withSchedule('sweep-pending', (deps) => sweepPending(deps));
