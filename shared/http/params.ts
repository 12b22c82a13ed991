import * as z from 'zod';
import { Label, SpaceName, WorkspaceId } from '../domain/model.ts';

/** Path parameters of the routes, validated like bodies. */
const RegistryParam = z.string().min(1).max(64);
export const RegistryPath = z.object({ registryId: RegistryParam });
export const SpacePath = RegistryPath.extend({ space: SpaceName });
export const BindingPath = SpacePath.extend({ workspaceId: WorkspaceId });
export const WorkspacePath = z.object({ workspaceId: WorkspaceId });
export const NamespacePath = z.object({ cluster: Label, namespace: Label });
export const ClusterPath = z.object({ cluster: Label });
