import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../../events/contract.ts';
import { createLocalBus } from '../../shared/events/local-bus.ts';
import type { Rule } from '../../shared/topology.ts';

const event = (id: string): BusEvent => ({ detailType: 'Tag Pushed', detail: { metadata: { version: 1, id, correlationId: 'c', occurredAt: new Date().toISOString() }, data: {} } });
const rule: Rule = { name: 'r', fn: 'f', detailTypes: ['Tag Pushed'], batchSize: 10, localBatchSize: 100, iam: {} };

describe('the local bus of a batched rule', () => {
  it('hands what is queued to the function up to the rule’s local batch size, every event once', async () => {
    const batches: string[][] = [];
    const bus = createLocalBus([rule], async (_fn, e) => {
      batches.push((e as SQSEvent).Records.map((r) => (JSON.parse(r.body) as { detail: BusEvent['detail'] }).detail.metadata.id));
      return { batchItemFailures: [] };
    });
    await bus.put(Array.from({ length: 250 }, (_, i) => event(`e${i}`)));
    await bus.idle();
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(batches.flat().sort()).toEqual(Array.from({ length: 250 }, (_, i) => `e${i}`).sort());
  });

  it('takes the SQS batch size where the rule names no local one, and retries only the events the function failed', async () => {
    const seen: string[][] = [];
    const bus = createLocalBus([{ ...rule, localBatchSize: undefined }], async (_fn, e) => {
      const records = (e as SQSEvent).Records;
      seen.push(records.map((r) => r.messageId));
      // The first delivery fails its first record once.
      return { batchItemFailures: seen.length === 1 ? [{ itemIdentifier: records[0]?.messageId ?? '' }] : [] } satisfies SQSBatchResponse;
    }, 1);
    await bus.put(Array.from({ length: 25 }, (_, i) => event(`e${i}`)));
    await bus.idle();
    expect(seen.slice(0, 3).map((b) => b.length)).toEqual([10, 10, 5]);
    expect(seen.slice(3)).toEqual([[seen[0]?.[0]]]);
  });
});
