import * as z from 'zod';
import { RegistryId } from '../shared/domain/model.ts';
import { defineEvent } from './contract.ts';

/** Rebuild the index from the truth: one registry, or everything when `registryId` is absent. */
export const IndexRepairRequested = defineEvent('IndexRepairRequested', 1, z.object({ registryId: RegistryId.optional() }));
