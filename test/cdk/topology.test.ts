import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Template } from 'aws-cdk-lib/assertions';
import type { EventBridgeEvent, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateOf } from '../../cdk/wiring.ts';
import { ALL_EVENTS } from '../../events/index.ts';
import { createLocalBus } from '../../shared/events/local-bus.ts';
import { PLATFORM_ADMIN as ADMIN_ROLE } from '../../shared/domain/caller.ts';
import { signJwt } from '../../shared/local/jwt.ts';
import { createLocalServer } from '../../shared/local/server.ts';
import { RULES, SCHEDULES } from '../../shared/topology.ts';
import { resourcesOf, synthApp, templatesOf } from './synth.ts';

/**
 * One source of truth, seen from both homes: what API Gateway, EventBridge and Scheduler will do (read from the
 * synthesized template) against what the embedded runtime does (its real server and bus, driven here).
 */
describe('the CDK app and the local runtime see the same routes, rules and schedules', () => {
  let service: Template;
  const functionNames = new Map<string, string>();
  const fnOfLogicalId = (json: string) => [...functionNames].find(([id]) => json.includes(`"${id}"`))?.[1] ?? `unknown in ${json}`;
  let server: Server;
  let base: string;
  const secret = 'topology-test-secret';
  const token = signJwt({ sub: 'admin', roles: [ADMIN_ROLE], workspaces: [] }, secret);

  beforeAll(async () => {
    service = templatesOf(synthApp()).service;
    for (const [id, r] of Object.entries(resourcesOf(service, 'AWS::Lambda::Function')))
      functionNames.set(id, String(r.Properties.FunctionName).replace(/^image-registry-test-/, ''));
    // The local server with a stand-in for every handler that only says which function it is.
    server = createLocalServer({
      jwtSecret: secret,
      loadHandler: async (fn) => async () => ({ statusCode: 299, headers: { 'x-fn': fn }, body: '' }),
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it('answers every API Gateway route locally with the same function, and nothing API Gateway would not route', async () => {
    const integrations = service.toJSON().Resources as Record<string, { Properties: { IntegrationUri?: unknown } }>;
    const routes = Object.values(resourcesOf(service, 'AWS::ApiGatewayV2::Route')).map((r) => {
      const integrationId = /"Ref":"(\w+)"/.exec(JSON.stringify(r.Properties.Target))?.[1] ?? '';
      return { key: String(r.Properties.RouteKey), fn: fnOfLogicalId(JSON.stringify(integrations[integrationId]?.Properties.IntegrationUri)) };
    });
    expect(routes.length).toBeGreaterThan(20);
    for (const { key, fn } of routes) {
      const [method, path] = key.split(' ') as [string, string];
      const url = base + path.replace(/\{(\w+)\}/g, (_, name: string) => `sample-${name.toLowerCase()}`);
      const res = await fetch(url, { method, headers: { authorization: `Bearer ${token}` }, ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }) });
      expect(`${key} → ${res.headers.get('x-fn') ?? res.status}`).toBe(`${key} → ${fn}`);
    }
    const unrouted = await fetch(`${base}/api/v1/no-such-route`, { headers: { authorization: `Bearer ${token}` } });
    expect(unrouted.status).toBe(404);
  });

  it('delivers every published detail type locally to the same functions the EventBridge rules target', async () => {
    // A batched rule targets a queue: its function is the one the queue's event source mapping invokes.
    const pollers = Object.values(resourcesOf(service, 'AWS::Lambda::EventSourceMapping')).map((m) => ({
      queueId: /"Fn::GetAtt":\["(\w+)","Arn"\]/.exec(JSON.stringify(m.Properties.EventSourceArn))?.[1] ?? '',
      fn: fnOfLogicalId(JSON.stringify(m.Properties.FunctionName)),
    }));
    const fnOfTarget = (arn: string) => pollers.find((p) => arn.includes(`"${p.queueId}"`))?.fn ?? fnOfLogicalId(arn);
    const cloud = new Map<string, string[]>();
    for (const rule of Object.values(resourcesOf(service, 'AWS::Events::Rule'))) {
      const pattern = rule.Properties.EventPattern as { source: string[]; 'detail-type': string[] };
      const targets = (rule.Properties.Targets as { Arn: unknown }[]).map((t) => fnOfTarget(JSON.stringify(t.Arn)));
      for (const detailType of pattern['detail-type']) cloud.set(detailType, [...(cloud.get(detailType) ?? []), ...targets].sort());
    }
    const local = new Map<string, string[]>();
    const envelopesOf = (event: EventBridgeEvent<string, unknown> | SQSEvent) =>
      'Records' in event ? event.Records.map((r) => JSON.parse(r.body) as EventBridgeEvent<string, unknown>) : [event];
    const bus = createLocalBus(RULES, async (fn, event) => {
      for (const e of envelopesOf(event)) local.set(e['detail-type'], [...(local.get(e['detail-type']) ?? []), fn].sort());
    });
    const detailTypes = [...new Set([...ALL_EVENTS.map((c) => c.detailType), ...RULES.flatMap((r) => r.detailTypes)])];
    for (const detailType of detailTypes)
      await bus.put([{ detailType, detail: { metadata: { version: 1, id: detailType, correlationId: 'c', occurredAt: new Date().toISOString() }, data: {} } }]);
    await bus.idle();
    expect(Object.fromEntries([...local].sort())).toEqual(Object.fromEntries([...cloud].sort()));
    expect(local.size).toBeGreaterThan(0);
  });

  it('schedules locally (timers) and in AWS (Scheduler) the same jobs at the same rates', () => {
    const cloud = Object.values(resourcesOf(service, 'AWS::Scheduler::Schedule'))
      .map((s) => `${String(s.Properties.Name).replace(/^image-registry-test-/, '')} → ${fnOfLogicalId(JSON.stringify((s.Properties.Target as { Arn: unknown }).Arn))} ${s.Properties.ScheduleExpression}`)
      .sort();
    const local = SCHEDULES.map((s) => {
      const m = rateOf(s).toMinutes();
      const rate = m % 1440 === 0 ? `${m / 1440} day${m === 1440 ? '' : 's'}` : m % 60 === 0 ? `${m / 60} hour${m === 60 ? '' : 's'}` : `${m} minute${m === 1 ? '' : 's'}`;
      return `${s.name} → ${s.fn} rate(${rate})`;
    }).sort();
    expect(cloud).toEqual(local);
  });
});
