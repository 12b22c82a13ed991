import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPlatformAdmin } from '../../shared/domain/caller.ts';
import { Claims } from '../../shared/http/claims.ts';
import { withHttp, type HttpEvent } from '../../shared/http/with-http.ts';
import { ROUTES } from '../../shared/topology.ts';
import { provideDeps } from '../../shared/runtime.ts';
import { createStore } from '../../shared/store/index.ts';
import { createDocumentClient } from '../../shared/store/table.ts';
import { testDeps } from '../helpers/deps.ts';

describe('token claims, as the local server and API Gateway pass them', () => {
  const roles = (value: unknown) => Claims.safeParse({ sub: 'u', roles: value });

  it('accepts real arrays of strings, and no claim at all', () => {
    expect(roles(['viewer', 'platform-admin']).data?.roles).toEqual(['viewer', 'platform-admin']);
    expect(Claims.parse({ sub: 'u' })).toEqual({ sub: 'u', roles: [], workspaces: [] });
  });

  it("accepts API Gateway's flattened form: brackets around items separated by single spaces", () => {
    expect(roles('[viewer platform-admin]').data?.roles).toEqual(['viewer', 'platform-admin']);
    expect(roles('[platform-admin]').data?.roles).toEqual(['platform-admin']);
    expect(roles('[]').data?.roles).toEqual([]);
    expect(Claims.parse({ sub: 'u', workspaces: '[team-b team-a]' }).workspaces).toEqual(['team-b', 'team-a']);
  });

  it('refuses every other string: it is not a list and never grants a role', () => {
    for (const value of ['viewer,platform-admin', 'platform-admin', 'viewer platform-admin', '[viewer  platform-admin]', '[ platform-admin]', '[platform-admin ]', '[[platform-admin]]', '', '[platform-admin'])
      expect(roles(value).success, value).toBe(false);
    // One item holding a comma is a role of that name, not two roles.
    const comma = roles('[viewer,platform-admin]');
    expect(comma.data && isPlatformAdmin(comma.data)).toBe(false);
  });

  it('refuses arrays of non-strings and other types', () => {
    for (const value of [[1], [null], { 0: 'platform-admin' }, 5, true, null]) expect(roles(value).success, JSON.stringify(value)).toBe(false);
  });
});

describe('withHttp: claims, errors and headers', () => {
  const event = (claims: Record<string, unknown>, rest: Partial<HttpEvent> = {}) =>
    ({
      version: '2.0',
      routeKey: 'GET /api/v1/registries',
      rawPath: '/api/v1/registries',
      rawQueryString: '',
      headers: {},
      isBase64Encoded: false,
      requestContext: { requestId: 'r1', authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } } },
      ...rest,
    }) as unknown as HttpEvent;
  const context = { awsRequestId: 'r1' } as Context;
  const call = async (handler: (e: HttpEvent, c: Context) => Promise<APIGatewayProxyStructuredResultV2>, e: HttpEvent) => {
    const result = await handler(e, context);
    return { status: result.statusCode, headers: result.headers ?? {}, body: result.body ? (JSON.parse(result.body) as unknown) : undefined };
  };
  // An admin route whose handler only echoes who called it.
  const admin = withHttp(ROUTES['list-registries'], async (req) => ({ status: 200, body: { roles: req.caller.roles } }));

  beforeAll(() => {
    // withHttp hands deps to the handler; none is used here, and nothing connects to this endpoint.
    provideDeps(testDeps(createStore({ db: createDocumentClient('http://127.0.0.1:9', 'local'), name: 'unused' })).deps);
  });
  afterAll(() => provideDeps(undefined));

  it("grants admin from API Gateway's flattened roles, and refuses a comma-separated string with 401", async () => {
    expect(await call(admin, event({ sub: 'ops', roles: '[viewer platform-admin]' }))).toMatchObject({ status: 200, body: { roles: ['viewer', 'platform-admin'] } });
    expect(await call(admin, event({ sub: 'ops', roles: 'viewer,platform-admin' }))).toMatchObject({ status: 401, body: { error: 'UNAUTHORIZED' } });
    expect(await call(admin, event({ sub: 'ops', roles: '[viewer]' }))).toMatchObject({ status: 403 });
  });

  it("parses the row's path, query and body before the handler runs (400 naming the field), the body only when used", async () => {
    const admin = { sub: 'ops', roles: ['platform-admin'] };
    const seen: unknown[] = [];
    const echo = async ({ path, body }: { path: { registryId: string }; body: unknown }) => {
      seen.push(path.registryId, body);
      return { status: 204 } as const;
    };
    const update = withHttp(ROUTES['update-registry'], echo);
    const rotate = withHttp(ROUTES['rotate-webhook-secret'], echo);
    const post = (registryId: string, body?: string) => event(admin, { pathParameters: { registryId }, ...(body === undefined ? {} : { body }) });
    expect(await call(update, post('reg_1', '{"name":"Team A"}'))).toMatchObject({ status: 204 });
    // No body on a row whose body is optional: `{}`; on the others, a 400.
    expect(await call(rotate, post('reg_1'))).toMatchObject({ status: 204 });
    expect(await call(update, post('reg_1'))).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^invalid body/) } });
    expect(seen).toEqual(['reg_1', { name: 'Team A' }, 'reg_1', {}]);
    expect(await call(update, post('r'.repeat(65), '{}'))).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^invalid path: registryId/) } });
    expect(await call(update, post('reg_1', '{"insecure":"yes"}'))).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^invalid body: insecure/) } });
    expect(seen).toHaveLength(4);
    // A handler that never reads the body never has it parsed: a malformed one does not matter.
    const get = withHttp(ROUTES['get-registry'], async ({ path }) => ({ status: 200, body: { id: path.registryId } }));
    expect(await call(get, event(admin, { pathParameters: { registryId: 'reg_1' }, body: '{"a":' }))).toMatchObject({ status: 200, body: { id: 'reg_1' } });
  });

  it('answers bad input with 4xx, never 500', async () => {
    const claims = { sub: 'ops', roles: ['platform-admin'] };
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const reads = withHttp(ROUTES['list-registries'], async (req) => ({ status: 200, body: { got: typeof req.body } }));
    for (const body of ['{"a":', deep, '\u0000', 'x'.repeat(1_100_000)]) expect((await call(reads, event(claims, { body }))).status).toBeLessThan(500);
    expect((await call(reads, event(claims, { body: '!!!not base64', isBase64Encoded: true }))).status).toBe(400);
  });

  it('reads a body only when the handler asks: a webhook without its secret gets 401, whatever it sent', async () => {
    const { handler } = await import('../../functions/review-admission/handler.ts');
    const review = (body: string) => event({}, { routeKey: 'POST /admission/clusters/{cluster}', pathParameters: { cluster: 'prod' }, body });
    for (const body of ['{"a":', 'x'.repeat(5 * 1024 * 1024)]) expect(await call(handler, review(body))).toMatchObject({ status: 401, body: { error: 'UNAUTHORIZED' } });
  });

  it('sends nosniff and no-store with answers and errors; a handler may set its own cache policy', async () => {
    const ok = await call(admin, event({ sub: 'ops', roles: ['platform-admin'] }));
    const refused = await call(admin, event({ sub: 'ops', roles: 'platform-admin' }));
    for (const { headers } of [ok, refused]) expect(headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
    const asset = withHttp(ROUTES['get-ui'], async () => ({ status: 200, text: 'body{}', contentType: 'text/css', headers: { 'Cache-Control': 'public, max-age=60' } }));
    const result = await asset(event({}), context);
    expect(result.headers).toEqual({ 'x-content-type-options': 'nosniff', 'cache-control': 'public, max-age=60', 'content-type': 'text/css' });
  });
});
