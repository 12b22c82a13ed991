import { IndexRepairRequested } from './index-events.ts';
import { NamespaceBound } from './namespace-events.ts';
import { PullAccessSyncRequested } from './pull-access-events.ts';
import { RegistryConnected, RegistryRemoved } from './registry-events.ts';
import { SpaceBound, SpaceCreated, SpaceDeleted, SpaceUnbound, SpaceVisibilityChanged } from './space-events.ts';
import { RegistrySyncRequested } from './sync-events.ts';
import { TagDeleted, TagDetailsChanged, TagPushed } from './tag-events.ts';

export * from './contract.ts';
export * from './index-events.ts';
export * from './namespace-events.ts';
export * from './pull-access-events.ts';
export * from './registry-events.ts';
export * from './space-events.ts';
export * from './sync-events.ts';
export * from './tag-events.ts';

/** Every contract this service publishes (DESIGN.md §5). */
export const ALL_EVENTS = [
  RegistryConnected,
  RegistryRemoved,
  SpaceCreated,
  SpaceVisibilityChanged,
  SpaceDeleted,
  SpaceBound,
  SpaceUnbound,
  NamespaceBound,
  TagPushed,
  TagDeleted,
  TagDetailsChanged,
  IndexRepairRequested,
  RegistrySyncRequested,
  PullAccessSyncRequested,
] as const;
