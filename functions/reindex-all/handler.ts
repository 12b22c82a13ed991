import { withSchedule } from '../../shared/events/with-event.ts';
import { reindexAll } from '../../shared/usecases/reindex.ts';

export const handler = withSchedule('reindex-all', (deps) => reindexAll(deps));
