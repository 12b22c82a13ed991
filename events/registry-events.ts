import * as z from 'zod';
import { RegistryId, RegistryKind } from '../shared/domain/model.ts';
import { keys } from '../shared/store/keys.ts';
import { defineEvent } from './contract.ts';

export const RegistryConnected = defineEvent(
  'RegistryConnected',
  1,
  z.object({ registryId: RegistryId, kind: RegistryKind, host: z.string() }),
  (r) => keys.registry(r.registryId),
);
export const RegistryRemoved = defineEvent('RegistryRemoved', 1, z.object({ registryId: RegistryId }), (r) => keys.registry(r.registryId));
