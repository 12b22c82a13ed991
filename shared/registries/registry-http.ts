import * as z from 'zod';
import { RegistryCallError, sanitizeRegistryText, type RegistryCallErrorKind } from './registry-error.ts';

/** A registry's 2xx answer as both clients read it; `what` names the call in messages (`GET /v2/_catalog`). */
export type RegistryHttpAnswer = { what: string; status: number; headers: Headers; text: string };

/** How a registry's HTTP status reads as a failure: 401, 404, 409 as such; 5xx and 429 unavailable; the rest refused. */
export const kindOf = (status: number): RegistryCallErrorKind => {
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status >= 500 || status === 429) return 'unavailable';
  return 'refused';
};

// Harbor and the distribution API share this envelope; distribution may leave `message` out.
const ErrorEnvelope = z.object({ errors: z.array(z.object({ code: z.string(), message: z.string().optional() })) });

/**
 * The reasons of an error answer: its `{"errors":[{code,message}]}` entries (`CODE: message; ...`), or `fallback`
 * (the status text) when the body is no such envelope. Sanitised and capped.
 */
export const reasonsOf = (text: string, fallback: string): string => {
  try {
    const parsed = ErrorEnvelope.safeParse(JSON.parse(text));
    if (parsed.success && parsed.data.errors.length > 0)
      return sanitizeRegistryText(parsed.data.errors.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; '));
  } catch {
    // not JSON (a proxy's HTML page, an empty body, a HEAD answer): the status says enough
  }
  return sanitizeRegistryText(fallback || 'no reason given');
};

/**
 * Parses a registry's JSON answer; a body that is not what the API promises counts as the registry being
 * unavailable. `details: false` leaves zod's report out of the message (for answers that carry secrets).
 */
export const parseAnswer = <T extends z.ZodType>(
  label: string,
  answer: Pick<RegistryHttpAnswer, 'what' | 'status' | 'text'>,
  schema: T,
  opts: { details?: boolean } = {},
): z.infer<T> => {
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch (error) {
    throw new RegistryCallError('unavailable', `${label} answered ${answer.what} with a body that is not JSON`, answer.status, { cause: error });
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = opts.details === false ? '' : `: ${z.prettifyError(parsed.error)}`;
  throw new RegistryCallError('unavailable', `${label} answered ${answer.what} with an unexpected body${details}`, answer.status, {
    cause: opts.details === false ? undefined : parsed.error,
  });
};

/** The target of a `Link: <...>; rel="next"` header (RFC 8288, as Harbor and distribution send it). */
export const nextLink = (header: string | null) => header?.match(/<([^>]*)>\s*;\s*rel="?next"?/)?.[1];

export type FollowPagesOptions<T> = {
  /** Names the registry in messages: `Harbor`, `registry`. */
  label: string;
  /** Where the registry lives: a next link must stay on its origin. */
  base: URL;
  first: URL;
  maxPages: number;
  get: (url: URL) => Promise<RegistryHttpAnswer>;
  /** The items of one page (parses and throws as `parseAnswer` does). */
  items: (answer: RegistryHttpAnswer) => T[];
};

/**
 * Follows `Link: <...>; rel="next"` from `first` until a page has none or is empty (distribution 2.x links past
 * the last page), at most `maxPages` pages. A next link to another origin (the credentials would go there), one
 * already followed (a loop), or one that is not a URL fails the call as `unavailable`.
 */
export const followPages = async <T>(opts: FollowPagesOptions<T>): Promise<T[]> => {
  const { label, base, maxPages } = opts;
  const items: T[] = [];
  const seen = new Set<string>();
  for (let url: URL | undefined = opts.first; url; ) {
    seen.add(url.href);
    const answer = await opts.get(url);
    const page = opts.items(answer);
    items.push(...page);
    const link = nextLink(answer.headers.get('link'));
    if (!link || page.length === 0) break;
    let next: URL;
    try {
      next = new URL(link, base);
    } catch {
      throw new RegistryCallError('unavailable', `${label} answered ${answer.what} with a next link that is not a URL: ${sanitizeRegistryText(link)}`, answer.status);
    }
    // Never send the credentials to another origin, never loop.
    if (next.origin !== base.origin || seen.has(next.href))
      throw new RegistryCallError('unavailable', `${label} answered ${answer.what} with an unusable next link: ${sanitizeRegistryText(link)}`, answer.status);
    // Distinct links forever (page=2, 3, ...; last=a1, a2, ...) are no loop `seen` catches.
    if (seen.size >= maxPages) throw new RegistryCallError('unavailable', `${label} answered ${answer.what} with more than ${maxPages} pages`, answer.status);
    url = next;
  }
  return items;
};
