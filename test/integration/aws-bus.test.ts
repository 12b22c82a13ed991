import { randomBytes } from 'node:crypto';
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, EventBridgeEvent, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventPatternOf } from '../../cdk/wiring.ts';
import { SOURCE } from '../../events/contract.ts';
import { handler as indexChanges } from '../../functions/index-changes/handler.ts';
import type { Deps } from '../../shared/deps.ts';
import { createEventBridgeBus } from '../../shared/events/eventbridge-bus.ts';
import { provideDeps } from '../../shared/runtime.ts';
import { createSecretsManagerStore } from '../../shared/secrets/secrets-manager-store.ts';
import { RULES } from '../../shared/topology.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { listImages } from '../../shared/usecases/selector.ts';
import { bindSpace, createSpace } from '../../shared/usecases/spaces.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { applyRegistryChanges } from '../../shared/usecases/webhooks.ts';
import { ctx, testDeps, T0 } from '../helpers/deps.ts';
import { createTestTable } from '../helpers/table.ts';

const endpoints = inject('awsEndpoints');
const admin = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };

if (endpoints.kind === 'localstack') {
  const { region, credentials } = endpoints;
  const suffix = randomBytes(4).toString('hex');

  describe('EventBridge, SQS and Secrets Manager on LocalStack', () => {
    const eventBridge = new EventBridgeClient({ endpoint: endpoints.eventbridge, region, credentials });
    const sqs = new SQSClient({ endpoint: endpoints.sqs, region, credentials });
    const busName = `image-registry-it-${suffix}`;
    /** One queue per rule of the rule table, standing in for its function. */
    const queues = new Map<string, string>();
    let table: Awaited<ReturnType<typeof createTestTable>>;

    beforeAll(async () => {
      table = await createTestTable(endpoints.dynamodb);
      await eventBridge.send(new CreateEventBusCommand({ Name: busName }));
      for (const rule of RULES) {
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${rule.name}-${suffix}` }));
        if (!QueueUrl) throw new Error('no queue URL');
        const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
        queues.set(rule.name, QueueUrl);
        // The same pattern the CDK stack gives the rule (cdk/wiring.ts).
        await eventBridge.send(new PutRuleCommand({ Name: `${rule.name}-${suffix}`, EventBusName: busName, EventPattern: JSON.stringify(eventPatternOf(rule)) }));
        await eventBridge.send(new PutTargetsCommand({ Rule: `${rule.name}-${suffix}`, EventBusName: busName, Targets: [{ Id: rule.fn, Arn: Attributes?.QueueArn }] }));
      }
    });

    afterAll(async () => {
      provideDeps(undefined);
      for (const rule of RULES) {
        await eventBridge.send(new RemoveTargetsCommand({ Rule: `${rule.name}-${suffix}`, EventBusName: busName, Ids: [rule.fn] }));
        await eventBridge.send(new DeleteRuleCommand({ Name: `${rule.name}-${suffix}`, EventBusName: busName }));
      }
      await eventBridge.send(new DeleteEventBusCommand({ Name: busName }));
      for (const QueueUrl of queues.values()) await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await table.drop();
      eventBridge.destroy();
      sqs.destroy();
    });

    /** Everything delivered to a rule's queue until `done` holds (or 30 s pass), then 2 s more for strays. */
    const drain = async (ruleName: string, done: (events: EventBridgeEvent<string, unknown>[]) => boolean) => {
      const QueueUrl = queues.get(ruleName);
      const events: EventBridgeEvent<string, unknown>[] = [];
      const deadline = Date.now() + 30_000;
      let graceUntil = Infinity;
      while (Date.now() < Math.min(deadline, graceUntil)) {
        const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        for (const m of Messages ?? []) events.push(JSON.parse(m.Body ?? '{}') as EventBridgeEvent<string, unknown>);
        if (graceUntil === Infinity && done(events)) graceUntil = Date.now() + 2_000;
      }
      return events;
    };

    it('routes what the EventBridge adapter puts through the generated rules to their targets, and the indexer applies it', async () => {
      const env = testDeps(table.store);
      const deps: Deps = { ...env.deps, bus: createEventBridgeBus(eventBridge, busName) };
      // Set up through the collecting bus, indexed directly.
      const registry = await registerRegistry({ name: 'h', kind: 'harbor', mode: 'hosted', url: 'https://harbor.it' }, env.deps, ctx);
      const harbor = await table.store.registries.get(registry.id);
      if (!harbor) throw new Error('registry not stored');
      await putWorkspace('team-a', {}, env.deps, ctx);
      await putNamespace('c1', 'ns-a', { workspaceId: 'team-a' }, env.deps, ctx);
      await createSpace(harbor.id, { name: 'sec', visibility: 'private' }, env.deps, ctx);
      await bindSpace(harbor.id, 'sec', 'team-a', env.deps, ctx);
      await env.deliver();

      // Now for real: a push and a second registry go out through PutEvents; a foreign source must not match.
      await applyRegistryChanges(harbor, [{ action: 'push', path: 'sec/db', tag: 'v1', digest: `sha256:${'a'.repeat(64)}`, eventTime: T0 + 1000 }], deps, ctx);
      await registerRegistry({ name: 'd', kind: 'docker-registry', mode: 'integrated', url: 'https://dr.it' }, deps, ctx);
      const foreign = await eventBridge.send(new PutEventsCommand({ Entries: [{ EventBusName: busName, Source: 'someone.else', DetailType: 'TagPushed', Detail: '{}' }] }));
      expect(foreign.FailedEntryCount).toBe(0);

      const published = ['TagPushed', 'RegistryConnected'];
      const received = new Map<string, EventBridgeEvent<string, unknown>[]>();
      for (const rule of RULES) {
        const expected = published.filter((d) => rule.detailTypes.includes(d)).sort();
        received.set(rule.name, await drain(rule.name, (events) => expected.every((d) => events.some((e) => e['detail-type'] === d))));
        const got = received.get(rule.name) ?? [];
        expect(got.map((e) => e['detail-type']).sort(), rule.name).toEqual(expected);
        expect(got.every((e) => e.source === SOURCE), rule.name).toBe(true);
      }

      // The indexer's function, fed exactly what EventBridge delivered: for a batched rule, as its queue's event source
      // would (each record's body the envelope, as the SqsQueue target sends it).
      provideDeps(deps);
      const indexRule = RULES.find((r) => r.fn === 'index-changes');
      const events = received.get(indexRule?.name ?? '') ?? [];
      expect(indexRule?.batchSize).toBeGreaterThan(0);
      const batch = { Records: events.map((e) => ({ messageId: e.id, body: JSON.stringify(e) })) } as SQSEvent;
      expect(await indexChanges(batch, { awsRequestId: 'it-batch' } as Context)).toEqual({ batchItemFailures: [] });
      const images = await listImages('c1', 'ns-a', { limit: 10 }, admin, deps);
      expect(images.items.map((i) => `${i.image}@${i.latestTag.tag}[${i.grantedBy.join(',')}]`)).toEqual(['harbor.it/sec/db@v1[workspace:team-a]']);
      expect((await listImages('c1', 'ns-other', { limit: 10 }, admin, deps)).items).toEqual([]);
    });

    it('keeps registry credentials in Secrets Manager under the stage prefix: seal, open, remove', async () => {
      const client = new SecretsManagerClient({ endpoint: endpoints.secretsmanager, region, credentials });
      const store = createSecretsManagerStore(client, `image-registry/it-${suffix}`);
      const ref = await store.seal('reg-1', '{"credentials":{"username":"u","password":"p"}}');
      expect(ref).toMatch(new RegExp(`:secret:image-registry/it-${suffix}/reg-1-`));
      expect(await store.open(ref)).toBe('{"credentials":{"username":"u","password":"p"}}');
      await store.remove(ref);
      await expect(store.open(ref)).rejects.toThrow();
      client.destroy();
    });
  });
} else {
  describe('EventBridge without a container runtime', () => {
    it('offers no EventBridge endpoint and said so: the bus round trip needs LocalStack, the rest ran on DynamoDB Local', () => {
      expect(endpoints.kind).toBe('dynamodb-local');
      expect(endpoints).not.toHaveProperty('eventbridge');
      expect(endpoints.announcement).toMatch(/no container runtime .*not LocalStack$/);
    });
  });
}
