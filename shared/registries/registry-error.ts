/** Why a registry call failed; the use cases map it to their own errors. */
export type RegistryCallErrorKind = 'unavailable' | 'unauthorized' | 'refused' | 'not-found' | 'conflict';

/** The most a piece of registry-provided text may take in a message (reasons, status texts, headers). */
export const REGISTRY_TEXT_MAX = 300;
// Ours plus a few capped registry pieces; only a backstop, the pieces are capped on their own.
const MESSAGE_MAX = 1200;

// Whitespace of every kind (tabs, newlines, U+2028/2029, NBSP, ...) becomes one space.
const WHITESPACE = /[\s\u0085]+/gu;
// C0/C1 controls, format characters (bidi overrides and isolates, zero-width ones, BOM) and lone surrogates.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/gu;

/**
 * Makes text a registry sent safe to store and show: strips control, format (bidi overrides, zero-width) and
 * lone surrogate characters, turns `<` and `>` into `‹` and `›` (no markup survives), collapses whitespace and
 * caps it at `max` characters (300) with an ellipsis.
 */
export const sanitizeRegistryText = (text: string, max = REGISTRY_TEXT_MAX): string => {
  const clean = text.replace(WHITESPACE, ' ').replace(INVISIBLE, '').replace(/</g, '‹').replace(/>/g, '›').replace(/ {2,}/g, ' ').trim();
  const chars = Array.from(clean);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : clean;
};

/**
 * A registry did not do what was asked. `message` carries the registry's own reason, already sanitised: it
 * becomes a registry's `statusMessage` and API error messages, so it never holds control characters or markup.
 */
export class RegistryCallError extends Error {
  override readonly name = 'RegistryCallError';
  constructor(
    readonly kind: RegistryCallErrorKind,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    // The callers sanitise and cap each registry-provided piece; this is the backstop for the whole message.
    super(sanitizeRegistryText(message, MESSAGE_MAX), options);
  }
}
