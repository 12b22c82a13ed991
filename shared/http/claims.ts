import * as z from 'zod';

/**
 * API Gateway's JWT authorizer flattens an array claim to the string "[a b]"; the local server passes real arrays.
 * Accepted: an array of strings, or a string of exactly that form (brackets around zero or more items separated by
 * single spaces, no item empty or holding whitespace or brackets). Anything else, such as "viewer,platform-admin"
 * or a bare "platform-admin", is not a list and makes the claims invalid: it never grants a role.
 */
const FLATTENED = /^\[(?:[^\s[\]]+(?: [^\s[\]]+)*)?\]$/;
const StringList = z.union([
  z.array(z.string()),
  z
    .string()
    .regex(FLATTENED, 'is not an array claim')
    .transform((v) => (v === '[]' ? [] : v.slice(1, -1).split(' '))),
]);

/** The token claims this service reads; what they grant is `shared/domain/caller.ts`'s to say. */
export const Claims = z.object({
  sub: z.string().min(1),
  roles: StringList.default([]),
  workspaces: StringList.default([]),
});
export type Claims = z.infer<typeof Claims>;
