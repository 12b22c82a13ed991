import * as z from 'zod';
import { RegistryId, WorkspaceId } from '../shared/domain/model.ts';
import { keys } from '../shared/store/keys.ts';
import { defineEvent } from './contract.ts';

/**
 * Asks for the pull access of a workspace on a Harbor registry to be converged to the truth (its robot's projects,
 * and a secret rotation when one is due). Carried by a pull grant's pending mark, so the sweep re-emits it while
 * Harbor has not confirmed. Never carries a secret.
 */
export const PullAccessSyncRequested = defineEvent(
  'PullAccessSyncRequested',
  1,
  z.object({ registryId: RegistryId, workspaceId: WorkspaceId, reason: z.enum(['change', 'rotation', 'reconcile']) }),
  (g) => keys.pullGrant(g.registryId, g.workspaceId),
);
