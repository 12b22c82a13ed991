import * as z from 'zod';
import { RegistryId, SpaceName, Visibility, WorkspaceId } from '../shared/domain/model.ts';
import { keys } from '../shared/store/keys.ts';
import { defineEvent } from './contract.ts';

const SpaceRef = z.object({ registryId: RegistryId, space: SpaceName });
const BindingRef = SpaceRef.extend({ workspaceId: WorkspaceId });
const spaceKey = (s: z.infer<typeof SpaceRef>) => keys.space(s.registryId, s.space);
const bindingKey = (b: z.infer<typeof BindingRef>) => keys.binding(b.registryId, b.space, b.workspaceId);

export const SpaceCreated = defineEvent('SpaceCreated', 1, SpaceRef.extend({ visibility: Visibility }), spaceKey);
/** `previousVisibility`: what it was, for the audit trail (absent on events made before it was recorded). */
export const SpaceVisibilityChanged = defineEvent('SpaceVisibilityChanged', 1, SpaceRef.extend({ visibility: Visibility, previousVisibility: Visibility.optional() }), spaceKey);
export const SpaceDeleted = defineEvent('SpaceDeleted', 1, SpaceRef, spaceKey);
export const SpaceBound = defineEvent('SpaceBound', 1, BindingRef, bindingKey);
export const SpaceUnbound = defineEvent('SpaceUnbound', 1, BindingRef, bindingKey);
