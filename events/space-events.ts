import * as z from 'zod';
import { RegistryId, SpaceName, Visibility, WorkspaceId } from '../shared/domain/model.ts';
import { defineEvent } from './contract.ts';

const SpaceRef = z.object({ registryId: RegistryId, space: SpaceName });

export const SpaceCreated = defineEvent('SpaceCreated', 1, SpaceRef.extend({ visibility: Visibility }));
export const SpaceVisibilityChanged = defineEvent('SpaceVisibilityChanged', 1, SpaceRef.extend({ visibility: Visibility }));
export const SpaceDeleted = defineEvent('SpaceDeleted', 1, SpaceRef);
export const SpaceBound = defineEvent('SpaceBound', 1, SpaceRef.extend({ workspaceId: WorkspaceId }));
export const SpaceUnbound = defineEvent('SpaceUnbound', 1, SpaceRef.extend({ workspaceId: WorkspaceId }));
