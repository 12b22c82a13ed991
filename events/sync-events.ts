import * as z from 'zod';
import { RegistryId } from '../shared/domain/model.ts';
import { defineEvent } from './contract.ts';

/**
 * Reconcile this registry now: list it and repair the truth. `manual` (the admin's `POST .../sync`) also asks
 * for the registry's index to be audited afterwards; `schedule` is the periodic run; `new-space`: a webhook named a
 * Harbor project the platform did not know, whose visibility only Harbor's API can tell. Not a state change: a lost
 * request is covered by the next scheduled run, so it carries no pending mark.
 */
export const RegistrySyncRequested = defineEvent(
  'RegistrySyncRequested',
  1,
  z.object({ registryId: RegistryId, reason: z.enum(['manual', 'schedule', 'new-space']) }),
);
