import { randomUUID } from 'node:crypto';
import { withSchedule } from '../../shared/events/with-event.ts';
import { rotateExpiringRobots } from '../../shared/usecases/pull-access.ts';

export const handler = withSchedule('rotate-expiring-robots', (deps) => rotateExpiringRobots(deps, { correlationId: `rotate-expiring-robots-${randomUUID()}`, actor: 'rotate-expiring-robots' }));
