import type { Context, EventBridgeEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NamespaceBound } from '../../events/index.ts';
import type { Deps } from '../../shared/deps.ts';
import { createEvent } from '../../shared/events/publisher.ts';
import { withEvent } from '../../shared/events/with-event.ts';
import { logger } from '../../shared/logger.ts';
import { metric, metrics } from '../../shared/metrics.ts';
import { provideDeps } from '../../shared/runtime.ts';

const context = { awsRequestId: 'req-1', functionName: 'index-changes', functionVersion: '1', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:index-changes', memoryLimitInMB: '512' } as Context;

/** The JSON lines the logger printed at ERROR (the tests' level) while `run` ran (Powertools prints through its own console). */
const linesOf = async (run: () => Promise<unknown>) => {
  const printer = (logger as unknown as { console: Console }).console;
  const spy = vi.spyOn(printer, 'error').mockImplementation(() => undefined);
  try {
    await run();
    return spy.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>);
  } finally {
    spy.mockRestore();
  }
};

describe('log lines in Lambda', () => {
  afterEach(() => {
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    provideDeps(undefined);
  });

  it('carry the Lambda context and the event’s correlation id, and only for that invocation', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'index-changes';
    provideDeps({} as Deps);
    const handler = withEvent(async () => logger.error('handled'));
    const invoke = (correlationId: string) => {
      const event = createEvent(NamespaceBound, { cluster: 'c', namespace: 'n', workspaceId: null }, { correlationId, now: new Date() });
      const envelope = { version: '0', id: 'x', 'detail-type': event.detailType, source: 's', account: 'a', time: '', region: 'r', resources: [], detail: event.detail };
      return handler(envelope as EventBridgeEvent<string, unknown>, context);
    };
    const first = (await linesOf(() => invoke('corr-1'))).find((l) => l.message === 'handled');
    expect(first).toMatchObject({ correlationId: 'corr-1', function_request_id: 'req-1', function_name: 'index-changes', detailType: 'NamespaceBound' });
    const second = (await linesOf(() => invoke('corr-2'))).find((l) => l.message === 'handled');
    expect(second).toMatchObject({ correlationId: 'corr-2' });
    // After the invocation, its keys are gone.
    const after = (await linesOf(async () => logger.error('later'))).find((l) => l.message === 'later');
    expect(after).not.toHaveProperty('correlationId');
  });

  it('emit the metrics an invocation recorded once it is done, in Lambda only', async () => {
    const publish = vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    const add = vi.spyOn(metrics, 'addMetric');
    provideDeps({} as Deps);
    const event = createEvent(NamespaceBound, { cluster: 'c', namespace: 'n', workspaceId: null }, { correlationId: 'c', now: new Date() });
    const envelope = { version: '0', id: 'x', 'detail-type': event.detailType, source: 's', account: 'a', time: '', region: 'r', resources: [], detail: event.detail } as EventBridgeEvent<string, unknown>;
    await withEvent(async () => metric('IndexFailures', 2))(envelope, context);
    expect(add).not.toHaveBeenCalled();
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'index-changes';
    await withEvent(async () => metric('IndexFailures', 2))(envelope, context);
    expect(add).toHaveBeenCalledWith('IndexFailures', 'Count', 2);
    expect(publish).toHaveBeenCalledTimes(1);
    publish.mockRestore();
    add.mockRestore();
  });
});
