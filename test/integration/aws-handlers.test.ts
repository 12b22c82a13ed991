import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Registry } from '../../shared/domain/model.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { bindSpace, createSpace } from '../../shared/usecases/spaces.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { resourcesOf, synthApp, templatesOf } from '../cdk/synth.ts';
import { ctx, testDeps, T0 } from '../helpers/deps.ts';
import { createTestTable } from '../helpers/table.ts';

type Handler = (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The handlers as Lambda runs them: the environment the stack gives each function (names resolved to this
 * run's table), deps built by `getDeps()` from it, and claims shaped as API Gateway's JWT authorizer passes
 * them (array claims flattened to "[a b]").
 */
describe(`the deployed handlers on ${inject('awsEndpoints').kind}`, () => {
  const endpoints = inject('awsEndpoints');
  let table: Awaited<ReturnType<typeof createTestTable>>;
  let harbor: Registry;
  const saved = { ...process.env };

  const event = (method: string, path: string, params: Record<string, string>, claims: Record<string, string>, extra: Record<string, unknown> = {}) => ({
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    pathParameters: params,
    isBase64Encoded: false,
    requestContext: {
      requestId: `req-${Math.random()}`,
      http: { method, path },
      routeKey: `${method} ${path}`,
      stage: '$default',
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: null } },
    },
    ...extra,
  });
  const invoke = async (fn: string, e: unknown) => {
    const { handler } = (await import(`../../functions/${fn}/handler.ts`)) as { handler: Handler };
    const result = await handler(e, { awsRequestId: 'aws-handlers' } as Context);
    return { status: result.statusCode, body: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : undefined };
  };

  beforeAll(async () => {
    table = await createTestTable(endpoints.dynamodb);
    const env = testDeps(table.store);
    const registry = await registerRegistry({ name: 'h', kind: 'harbor', mode: 'hosted', url: 'https://harbor.it' }, env.deps, ctx);
    const stored = await table.store.registries.get(registry.id);
    if (!stored) throw new Error('registry not stored');
    harbor = stored;
    await putWorkspace('team-a', {}, env.deps, ctx);
    await putNamespace('c1', 'ns-a', { workspaceId: 'team-a' }, env.deps, ctx);
    await createSpace(harbor.id, { name: 'sec', visibility: 'private' }, env.deps, ctx);
    await bindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
    await applyRegistryChanges(harbor, [{ action: 'push', path: 'sec/db', tag: 'v1', digest: `sha256:${'b'.repeat(64)}`, eventTime: T0 + 1000 }], env.deps, ctx);
    await env.deliver();

    // The environment of the deployed functions, from the synthesized template.
    const functions = resourcesOf(templatesOf(synthApp()).service, 'AWS::Lambda::Function');
    const variables = Object.values(functions).map((f) => (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables);
    const union = Object.assign({}, ...variables) as Record<string, unknown>;
    const resolved: Record<string, string> = { TABLE_NAME: table.table.name, EVENT_BUS_NAME: 'not-called-by-these-handlers', PUBLIC_URL: 'https://api.example.com' };
    for (const [key, value] of Object.entries(union)) process.env[key] = typeof value === 'string' ? value : resolved[key];
    // What only the test adds: where DynamoDB is.
    Object.assign(process.env, { DYNAMODB_ENDPOINT: endpoints.dynamodb, AWS_REGION: 'local' });
  });
  afterAll(async () => {
    process.env = saved;
    await table.drop();
  });

  it('serve a reader whose workspaces claim arrives flattened, and refuse one whose claim lacks the workspace', async () => {
    const path = '/api/v1/clusters/{cluster}/namespaces/{namespace}/images';
    const allowed = await invoke('list-images', event('GET', path, { cluster: 'c1', namespace: 'ns-a' }, { sub: 'reader', workspaces: '[team-b team-a]' }));
    expect(allowed.status).toBe(200);
    expect((allowed.body?.items as { image: string }[]).map((i) => i.image)).toEqual(['harbor.it/sec/db']);
    const refused = await invoke('list-images', event('GET', path, { cluster: 'c1', namespace: 'ns-a' }, { sub: 'reader', workspaces: '[team-b]' }));
    expect(refused.status).toBe(403);
  });

  it('let an admin (roles claim flattened) write to the table, and no one without the role', async () => {
    const path = '/api/v1/workspaces/{workspaceId}';
    const created = await invoke('put-workspace', event('PUT', path, { workspaceId: 'team-z' }, { sub: 'ops', roles: '[viewer platform-admin]' }, { body: '{"displayName":"Z"}' }));
    expect(created).toMatchObject({ status: 201, body: { id: 'team-z', displayName: 'Z' } });
    expect(await table.store.tenancy.getWorkspace('team-z')).toMatchObject({ displayName: 'Z' });
    const refused = await invoke('put-workspace', event('PUT', path, { workspaceId: 'team-y' }, { sub: 'ops', roles: '[viewer]' }, { body: '{}' }));
    expect(refused.status).toBe(403);
    expect(await table.store.tenancy.getWorkspace('team-y')).toBeUndefined();
  });
});
