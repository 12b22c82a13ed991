import { Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { NAG_REASONS } from '../../cdk/nag.ts';
import { ROUTE_LIST } from '../../shared/topology.ts';
import { synthApp } from './synth.ts';

const acknowledgements = (root: IConstruct) =>
  root.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => ({ path: c.node.path, data: m.data as Record<string, string> })))
    .flatMap(({ path, data }) => Object.entries(data).map(([id, reason]) => ({ path, id: id.replace(/^annotation::/i, ''), reason })));

describe('cdk-nag AwsSolutions', () => {
  it('finds no unacknowledged error or warning in either stack, and the synth with the pack succeeds', () => {
    const { app } = synthApp({ nag: true, cfnValidation: true });
    expect(() => app.synth()).not.toThrow();
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges only the reviewed findings, each on the narrowest construct, each with its written reason', () => {
    const { app } = synthApp();
    const acks = acknowledgements(app);
    const reasons = new Set<string>(Object.values(NAG_REASONS));
    for (const ack of acks) {
      expect(reasons.has(ack.reason), `${ack.path} ${ack.id}`).toBe(true);
      expect(ack.id).toMatch(/^AwsSolutions-(L1|APIG4|SQS3|IAM5\[Resource::[^\]]+\])$/);
    }
    const byRule = (id: string) => acks.filter((a) => a.id.startsWith(id));
    // The runtime finding on the service stack only; nothing acknowledged on the app or the data stack.
    expect(byRule('AwsSolutions-L1').map((a) => a.path)).toEqual(['ImageRegistry-test-Service']);
    expect(acks.filter((a) => a.path === '' || a.path.startsWith('ImageRegistry-test-Data'))).toEqual([]);
    // Exactly the anonymous routes of the route table.
    expect(byRule('AwsSolutions-APIG4').length).toBe(ROUTE_LIST.filter((r) => r.access === 'public' || r.access === 'webhook').length);
    // IAM5 only for the secrets prefix and the scheduler's `<function>:*`.
    for (const a of byRule('AwsSolutions-IAM5')) expect(a.id).toMatch(/:secret:image-registry\/test\/\*\]$|Function\w+\.Arn>:\*\]$/);
  });

  it('still reports what nobody reviewed (the pack is live, not silenced)', () => {
    const { app } = synthApp();
    const stray = new Stack(app, 'Stray');
    new Queue(stray, 'Unreviewed', { enforceSSL: false });
    const report = new AwsSolutionsChecks().validateScope(stray);
    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });
});
