import { randomUUID } from 'node:crypto';
import { withSchedule } from '../../shared/events/with-event.ts';
import { requestScheduledSyncs } from '../../shared/usecases/reconcile.ts';

export const handler = withSchedule('reconcile-registries', (deps) => requestScheduledSyncs(deps, { correlationId: `reconcile-registries-${randomUUID()}`, actor: 'reconcile-registries' }));
