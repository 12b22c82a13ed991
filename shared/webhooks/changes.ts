import type { Visibility } from '../domain/model.ts';

/** What a registry notification says happened, in the registry's own time (ms since epoch). */
export type RegistryChange =
  | { action: 'push'; path: string; tag?: string; digest: string; eventTime: number; visibility?: Visibility; space?: string }
  | { action: 'delete-tag'; path: string; tag: string; eventTime: number }
  /** Every tag on `digest` goes (a manifest/artifact delete); `tag`, when named, goes too. */
  | { action: 'delete-digest'; path: string; digest: string; tag?: string; eventTime: number };

/** Harbor puts the digest in `tag` for a push or pull by digest: such a resource names no tag. */
export const realTag = (tag: string | undefined) => (tag && !tag.includes(':') ? tag : undefined);
