import * as z from 'zod';
import { Label, WorkspaceId } from '../shared/domain/model.ts';
import { keys } from '../shared/store/keys.ts';
import { defineEvent } from './contract.ts';

/**
 * A namespace was bound to a workspace, or to none (`workspaceId: null`, also when it was deleted).
 * `previousWorkspaceId`: the workspace it left, if any (its pull credentials are rotated).
 */
export const NamespaceBound = defineEvent(
  'NamespaceBound',
  1,
  z.object({ cluster: Label, namespace: Label, workspaceId: WorkspaceId.nullable(), previousWorkspaceId: WorkspaceId.nullable().optional() }),
  (n) => keys.namespace(n.cluster, n.namespace),
);
