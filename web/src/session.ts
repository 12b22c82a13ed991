import * as z from 'zod/mini';
import { ApiError, createApi, type MyNamespaces } from './api.ts';

const TOKEN_KEY = 'image-selector.token';

/** Who uses the page: the pasted token (this tab only) and what the service said it opens. */
export const session: { token: string | undefined; me: MyNamespaces | undefined } = {
  token: sessionStorage.getItem(TOKEN_KEY) ?? undefined,
  me: undefined,
};

/** The one API client of the page. */
export const api = createApi(() => session.token);

const Claims = z.object({ sub: z.optional(z.string()), exp: z.optional(z.number()), roles: z.optional(z.array(z.string())), workspaces: z.optional(z.array(z.string())) });
/** Only to greet the user and choose what to offer; the service verifies the token on every call. */
export const claimsOf = (token: string) => {
  try {
    const payload = token.split('.')[1] ?? '';
    const parsed = Claims.safeParse(JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

/** The workspaces the token's `workspace-admin:<id>` roles name (the service decides what they may do). */
export const adminWorkspacesOf = (token: string | undefined) =>
  (token ? (claimsOf(token)?.roles ?? []) : []).filter((r) => r.startsWith('workspace-admin:')).map((r) => r.slice('workspace-admin:'.length));

let signedOut: (message: string) => void = () => undefined;
/** What the page does when the token is gone (sign-in shows again). */
export const onSignedOut = (f: (message: string) => void) => void (signedOut = f);

/** Keeps a pasted token (with or without `Bearer `); false when there is none. */
export const keepToken = (raw: string) => {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  if (!token) return false;
  session.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  return true;
};

export const forgetToken = (message = '') => {
  session.token = undefined;
  session.me = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  signedOut(message);
};

/** A refused token sends the user back to sign in; anything else is shown where it happened. */
export const handleAuth = (error: unknown) => {
  if (error instanceof ApiError && error.status === 401) {
    forgetToken(`The service refused this token (${error.message}). It may have expired: paste a new one.`);
    return true;
  }
  return false;
};
