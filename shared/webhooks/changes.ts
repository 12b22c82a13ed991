/**
 * What a registry notification says happened, in the registry's own time (ms since epoch). `at` names where in the
 * payload the change came from (`events[2]`, `event_data.resources[0]`), so a refusal can point at the item.
 * A payload never says who may see a space: a space first seen in one is private until the registry's API tells.
 */
export type RegistryChange =
  | { action: 'push'; path: string; tag?: string; digest: string; eventTime: number; at?: string }
  | { action: 'delete-tag'; path: string; tag: string; eventTime: number; at?: string }
  /** Every tag on `digest` goes (a manifest/artifact delete); `tag`, when named, goes too. */
  | { action: 'delete-digest'; path: string; digest: string; tag?: string; eventTime: number; at?: string };

/** Harbor puts the digest in `tag` for a push or pull by digest: such a resource names no tag. */
export const realTag = (tag: string | undefined) => (tag && !tag.includes(':') ? tag : undefined);
