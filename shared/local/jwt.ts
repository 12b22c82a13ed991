import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

const Header = z.object({ alg: z.string(), typ: z.string().optional() });
const Times = z.object({ exp: z.number().optional(), nbf: z.number().optional() });

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** Signs an HS256 JWT (local runtime and tests; AWS uses the OIDC issuer's tokens). */
export const signJwt = (claims: Record<string, unknown>, secret: string, ttlSeconds = 3600, now = Date.now()) => {
  const body = { iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + ttlSeconds, ...claims };
  const unsigned = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify(body))}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
};

/**
 * Verifies an HS256 JWT as the local stand-in for API Gateway's JWT authorizer: only HS256 (never `none`),
 * signature in constant time, `exp` and `nbf` enforced. Returns the claims, or undefined when invalid.
 */
export const verifyJwt = (token: string, secret: string, now = Date.now()): Record<string, unknown> | undefined => {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    if (Header.parse(JSON.parse(Buffer.from(header, 'base64url').toString())).alg !== 'HS256') return undefined;
    const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claims = z.record(z.string(), z.unknown()).parse(JSON.parse(Buffer.from(payload, 'base64url').toString()));
    const { exp, nbf } = Times.parse(claims);
    const seconds = now / 1000;
    if (exp === undefined || exp <= seconds || (nbf !== undefined && nbf > seconds)) return undefined;
    return claims;
  } catch {
    return undefined;
  }
};
