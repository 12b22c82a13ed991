import type { TagDetails } from '../domain/image-details.ts';

/**
 * What a registry notification says happened, in the registry's own time (ms since epoch). `at` names where in the
 * payload the change came from (`events[2]`, `event_data.resources[0]`), so a refusal can point at the item;
 * `operator`: who acted in the registry, as the payload says (see `operatorOf`).
 * A payload never says who may see a space: a space first seen in one is private until the registry's API tells.
 */
export type RegistryChange = (
  /** `details`: what the digest is, when the source told it (a reconcile; never a webhook's own guess). */
  | { action: 'push'; path: string; tag?: string; digest: string; eventTime: number; at?: string; details?: TagDetails }
  | { action: 'delete-tag'; path: string; tag: string; eventTime: number; at?: string }
  /** Every tag on `digest` goes (a manifest/artifact delete); `tag`, when named, goes too. */
  | { action: 'delete-digest'; path: string; digest: string; tag?: string; eventTime: number; at?: string }
) & { operator?: string };

/** The longest operator kept (the events' `metadata.operator`). */
export const MAX_OPERATOR_LENGTH = 255;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * The acting user a payload names, when it is a plain name: a string of 1..255 characters without control
 * characters. Anything else (absent, empty, another type, too long, a line break) is left out: it only annotates the
 * audit trail, so it never refuses a delivery, and a forged one never reaches a log line whole.
 */
export const operatorOf = (raw: unknown): string | undefined =>
  typeof raw === 'string' && raw.trim() !== '' && raw.length <= MAX_OPERATOR_LENGTH && !CONTROL.test(raw) ? raw : undefined;

/** Harbor puts the digest in `tag` for a push or pull by digest: such a resource names no tag. */
export const realTag = (tag: string | undefined) => (tag && !tag.includes(':') ? tag : undefined);
