import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from 'zod';
import type { Ctx, Deps } from '../deps.ts';
import { DomainError, badRequest, forbidden, unauthorized, type ErrorCode } from '../errors.ts';
import { logContext, logger, logInvocation } from '../logger.ts';
import { getDeps } from '../runtime.ts';
import { ROUTES, type Access, type Route } from '../topology.ts';
import { isAnyAdmin, isPlatformAdmin, mayAdminWorkspace, type Caller } from '../domain/caller.ts';
import { RegistryId } from '../domain/model.ts';
import { Claims } from './claims.ts';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpRequest = {
  params: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  body: unknown;
  headers: Record<string, string | undefined>;
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

/**
 * The one wrapper of HTTP handlers: access from the route table, JSON body, errors. The handler gets a
 * parsed request and the deps, and returns a status and body.
 */
export const withHttp = (fn: string, handle: (req: HttpRequest, deps: Deps) => Promise<HttpResult>) => {
  const route = ROUTES.find((r) => r.fn === fn);
  if (!route) throw new Error(`no route for function ${fn}`);
  return middy<HttpEvent, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(logInvocation())
    .use(errorResponses())
    .handler(async (event, context) => {
      const requestId = event.requestContext.requestId ?? context.awsRequestId;
      logContext({ correlationId: requestId });
      const caller = await authorize(route.access, event, getDeps);
      const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      // Read on first use: a webhook handler checks its secret first, so an unauthenticated body is never parsed.
      let body: { value: unknown } | undefined;
      const result = await handle(
        {
          params: event.pathParameters ?? {},
          query: event.queryStringParameters ?? {},
          get body() {
            return (body ??= { value: readBody(event, maxBodyOf(route)) }).value;
          },
          headers,
          caller,
          requestId,
          ctx: { correlationId: requestId, actor: caller.sub },
        },
        getDeps(),
      );
      if ('text' in result) return { statusCode: result.status, headers: withDefaults({ 'content-type': result.contentType, ...result.headers }), body: result.text };
      return json(result.status, result.body, result.headers);
    });
};
