import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from 'zod';
import type { Ctx, Deps } from '../deps.ts';
import { DomainError, badRequest, forbidden, unauthorized, type ErrorCode } from '../errors.ts';
import { logContext, logger, logInvocation } from '../logger.ts';
import { getDeps } from '../runtime.ts';
import type { Access, Route, RouteRow } from '../topology.ts';
import { isAnyAdmin, isPlatformAdmin, mayAdminWorkspace, type Caller } from '../domain/caller.ts';
import { RegistryId } from '../domain/model.ts';
import { Claims } from './claims.ts';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
type Raw = Record<string, string | undefined>;
type Parsed<I, K extends string, Else> = I extends { [k in K]: infer S extends z.ZodType } ? z.output<S> : Else;
/**
 * What a handler of `row` takes: the path, query and body its row declares, parsed; what it does not declare, as
 * sent. On a `webhook` row, everything as sent (the handler parses after it has checked the secret).
 */
export type InputOf<R extends Route> = R extends Route<infer I, infer A>
  ? A extends 'webhook'
    ? { path: Raw; query: Raw; body: unknown }
    : { path: Parsed<I, 'path', Raw>; query: Parsed<I, 'query', Raw>; body: Parsed<I, 'body', unknown> }
  : never;
export type HttpRequest<I = { path: Raw; query: Raw; body: unknown }> = I & {
  /** Lower-cased names. */
  headers: Raw;
  /** From the token on reader and admin routes; `anonymous` on public and webhook routes. */
  caller: Caller;
  requestId: string;
  /** The request's id and who acts (the token's `sub`), for the events and the audit trail of its changes. */
  ctx: Ctx;
};
/** A JSON body; or `text` sent as is with its `contentType` (the deploy UI's page and assets). */
export type HttpResult =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { status: number; text: string; contentType: string; headers?: Record<string, string> };

/** The one code → status table. */
const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_LARGE: 413,
  UPSTREAM_REFUSED: 502,
  UPSTREAM_UNAVAILABLE: 503,
};

export const MAX_BODY_BYTES = 1_048_576;

/**
 * Sent with every answer, errors included: never content-sniffed, never cached. A handler may set its own
 * `cache-control` (the deploy UI's versioned assets are cached for a year).
 */
export const RESPONSE_HEADERS: Readonly<Record<string, string>> = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

const withDefaults = (headers: Record<string, string>) => ({
  ...RESPONSE_HEADERS,
  ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
});

const json = (statusCode: number, body?: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: withDefaults(body === undefined ? headers : { 'content-type': 'application/json', ...headers }),
  body: body === undefined ? '' : JSON.stringify(body),
});

/** Validates outside input with zod; every problem becomes a 400 naming the field. */
export const parseInput = <T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw badRequest(`invalid ${what}: ${issues.map((i) => (i.path ? `${i.path} ${i.message}` : i.message)).join('; ')}`, { issues });
};

/** The largest body a route takes. */
export const maxBodyOf = (route: Route) => route.maxBodyBytes ?? MAX_BODY_BYTES;

const readBody = (event: HttpEvent, maxBytes: number): unknown => {
  if (!event.body) return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(raw) > maxBytes) throw new DomainError('TOO_LARGE', `body is larger than ${maxBytes} bytes`);
  try {
    return JSON.parse(raw);
  } catch {
    throw badRequest('body is not valid JSON');
  }
};

/** Route access, checked from the authorizer's claims (API Gateway's JWT authorizer, or the local server). */
const authorize = async (access: Access, event: HttpEvent, deps: () => Deps): Promise<Caller> => {
  const anonymous: Caller = { sub: 'anonymous', roles: [], workspaces: [] };
  if (access === 'public' || access === 'webhook') return anonymous;
  const claims = Claims.safeParse(event.requestContext.authorizer?.jwt?.claims);
  if (!claims.success) throw unauthorized('a valid bearer token is required');
  const caller = claims.data;
  if (access === 'reader' || isPlatformAdmin(caller)) return caller;
  if (access === 'admin') throw forbidden('this needs the platform-admin role');
  const { workspaceId, registryId } = event.pathParameters ?? {};
  if (access === 'workspace-admin' && (workspaceId === undefined ? isAnyAdmin(caller) : mayAdminWorkspace(caller, workspaceId))) return caller;
  if (access === 'registry-admin' && registryId !== undefined && isAnyAdmin(caller)) {
    const owner = (await ownerOf(deps(), registryId)) ?? '';
    if (mayAdminWorkspace(caller, owner)) return caller;
  }
  throw forbidden(
    access === 'registry-admin'
      ? 'this needs the platform-admin role, or the workspace-admin role of the workspace that owns the registry'
      : `this needs the platform-admin role or ${workspaceId === undefined ? 'a workspace-admin role' : `the workspace-admin role of ${workspaceId}`}`,
  );
};

/** The workspace that owns a live registry (none: a platform registry, or no such registry; the path's id is unchecked). */
const ownerOf = async (deps: Deps, registryId: string) =>
  RegistryId.safeParse(registryId).success ? (await deps.store.registries.get(registryId))?.ownerWorkspaceId : undefined;

/** middy's onError: domain errors → their status; anything else → 500 with a generic message, logged. */
const errorResponses = (): MiddlewareObj<HttpEvent, APIGatewayProxyStructuredResultV2> => ({
  onError: async (request) => {
    const { error } = request;
    if (error instanceof DomainError) {
      request.response = json(STATUS[error.code], { error: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) });
      return;
    }
    logger.error('unhandled error', { error: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) });
    request.response = json(500, { error: 'INTERNAL', message: 'internal error' });
  },
});

/** The row an event came by: of a function's rows (get-ui has two), the one of its route key. */
const rowOf = <R extends RouteRow>(rows: readonly R[], event: HttpEvent): R => {
  const key = event.routeKey ?? event.requestContext.routeKey;
  const row = rows.find((r) => `${r.method} ${r.path}` === key) ?? rows[0];
  if (!row) throw new Error('withHttp needs a route row');
  return row;
};

/**
 * The request as the handler gets it: path and query parsed now (400 naming the field), the body read and parsed on
 * first use, so a handler that checks a secret first never parses an unauthenticated body.
 */
const requestOf = (row: RouteRow, event: HttpEvent, caller: Caller, requestId: string): HttpRequest<{ path: unknown; query: unknown; body: unknown }> => {
  const raw = row.access === 'webhook';
  const { path, query, body } = row.input;
  const params = event.pathParameters ?? {};
  const search = event.queryStringParameters ?? {};
  const readOnce = () => {
    const value = readBody(event, maxBodyOf(row));
    if (raw || !body) return value;
    return parseInput(body, row.input.optionalBody ? (value ?? {}) : value, 'body');
  };
  let read: { value: unknown } | undefined;
  return {
    path: raw || !path ? params : parseInput(path, params, 'path'),
    query: raw || !query ? search : parseInput(query, search, 'query'),
    get body() {
      return (read ??= { value: readOnce() }).value;
    },
    headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    caller,
    requestId,
    ctx: { correlationId: requestId, actor: caller.sub },
  };
};

/**
 * The one wrapper of HTTP handlers: access and input from the route's row (`shared/topology.ts`), JSON body,
 * errors. The handler gets the parsed request and the deps, and returns a status and body. A function that serves
 * several routes passes all their rows.
 */
export const withHttp = <R extends RouteRow>(rows: R | readonly R[], handle: (req: HttpRequest<InputOf<R>>, deps: Deps) => Promise<HttpResult>) => {
  const list: readonly R[] = ([] as R[]).concat(rows);
  return middy<HttpEvent, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(logInvocation())
    .use(errorResponses())
    .handler(async (event, context) => {
      const requestId = event.requestContext.requestId ?? context.awsRequestId;
      logContext({ correlationId: requestId });
      const row = rowOf(list, event);
      const caller = await authorize(row.access, event, getDeps);
      const result = await handle(requestOf(row, event, caller, requestId) as HttpRequest<InputOf<R>>, getDeps());
      if ('text' in result) return { statusCode: result.status, headers: withDefaults({ 'content-type': result.contentType, ...result.headers }), body: result.text };
      return json(result.status, result.body, result.headers);
    });
};
