import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

const Header = z.object({ alg: z.string(), typ: z.string().optional() });

/** Clock skew tolerated on `iat` and `nbf`, and the longest lifetime a token may claim. */
export const JWT_SKEW_SECONDS = 60;
export const JWT_MAX_LIFETIME_SECONDS = 366 * 86_400;

// zod 4 numbers are finite (JSON.parse turns 1e400 into Infinity); `int()` also means a safe integer.
const NumericDate = z.number();
const StringArray = z.array(z.string());
/** The registered times, and the two claims that grant something: when present, arrays of strings only. */
const Checked = z.object({
  exp: NumericDate.int(),
  iat: NumericDate.optional(),
  nbf: NumericDate.optional(),
  roles: StringArray.optional(),
  workspaces: StringArray.optional(),
});

/**
 * Canonical base64url only: the part must be exactly what its decoded bytes encode to. Node's decoder is lenient (it
 * also reads `+/`, skips `=` and other characters, ignores trailing bits); re-encoding refuses all of those, since
 * the encoder writes only `[A-Za-z0-9_-]`, never pads and leaves unused bits zero.
 */
const decodePart = (part: string): Buffer | undefined => {
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
};

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** Signs an HS256 JWT (local runtime and tests; AWS uses the OIDC issuer's tokens). */
export const signJwt = (claims: Record<string, unknown>, secret: string, ttlSeconds = 3600, now = Date.now()) => {
  const body = { iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + ttlSeconds, ...claims };
  const unsigned = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify(body))}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
};

/**
 * Verifies an HS256 JWT as the local stand-in for API Gateway's JWT authorizer: only HS256 (never `none`), each
 * part canonical base64url, signature in constant time; `exp` required (an integer, in the future, at most
 * `JWT_MAX_LIFETIME_SECONDS` ahead); `iat` and `nbf`, when present, finite and not later than now plus
 * `JWT_SKEW_SECONDS`; `roles` and `workspaces`, when present, arrays of strings. Returns the claims, or undefined.
 */
export const verifyJwt = (token: string, secret: string, now = Date.now()): Record<string, unknown> | undefined => {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts.map(decodePart);
  if (!header || !payload || !signature) return undefined;
  try {
    if (Header.parse(JSON.parse(header.toString('utf8'))).alg !== 'HS256') return undefined;
    const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return undefined;
    const claims = z.record(z.string(), z.unknown()).parse(JSON.parse(payload.toString('utf8')));
    const checked = Checked.safeParse(claims);
    if (!checked.success) return undefined;
    const { exp, iat, nbf } = checked.data;
    const seconds = now / 1000;
    if (exp <= seconds || exp > seconds + JWT_MAX_LIFETIME_SECONDS) return undefined;
    if ((iat !== undefined && iat > seconds + JWT_SKEW_SECONDS) || (nbf !== undefined && nbf > seconds + JWT_SKEW_SECONDS)) return undefined;
    return claims;
  } catch {
    return undefined;
  }
};
