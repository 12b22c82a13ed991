import * as z from 'zod';

export const ADMIN_ROLE = 'platform-admin';

/** API Gateway's JWT authorizer flattens array claims to "[a b]"; the local server passes real arrays. */
const StringList = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const inner = v.replace(/^\[|\]$/g, '').trim();
  return inner ? inner.split(/[\s,]+/) : [];
}, z.array(z.string()));

/** The token claims this service reads. */
export const Claims = z.object({
  sub: z.string().min(1),
  roles: StringList.default([]),
  workspaces: StringList.default([]),
});
export type Claims = z.infer<typeof Claims>;

export const isAdmin = (claims: Claims) => claims.roles.includes(ADMIN_ROLE);
