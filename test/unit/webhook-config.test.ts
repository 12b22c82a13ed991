import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { webhookPolicyBody } from '../../shared/registries/harbor-client.ts';
import { distributionNotificationsYaml, harborWebhookPolicy } from '../../shared/usecases/webhook-config.ts';
import { harborProjectSecret } from '../../shared/usecases/webhook-secrets.ts';
import { renderBar, progressBar } from '../../scripts/progress.ts';

describe('the webhook configuration handed out', () => {
  it('is a distribution notifications block posting with the bearer secret and filtering blob and pull events', () => {
    expect(distributionNotificationsYaml('http://svc.test/webhooks/distribution/reg-abc', 's3cr-t_')).toBe(
      [
        'notifications:',
        '  endpoints:',
        '    - name: platform-image-registry',
        '      url: "http://svc.test/webhooks/distribution/reg-abc"',
        '      headers:',
        '        Authorization: ["Bearer s3cr-t_"]',
        '      timeout: 3s',
        '      threshold: 5',
        '      backoff: 5s',
        '      ignoredmediatypes:',
        '        - application/octet-stream',
        '      ignore:',
        '        actions:',
        '          - pull',
        '',
      ].join('\n'),
    );
  });

  it("is a Harbor policy for pushes and deletes, sent with the project's own secret, named per registry", () => {
    const policy = harborWebhookPolicy({ publicUrl: 'https://svc.test/' }, { id: 'reg-abc123def456', kind: 'harbor' }, 'xyz', 'team');
    const projectSecret = `team:${createHmac('sha256', 'xyz').update('harbor-project:team').digest('base64url')}`;
    expect(harborProjectSecret('xyz', 'team')).toBe(projectSecret);
    expect(harborProjectSecret('xyz', 'other')).not.toBe(projectSecret);
    expect(webhookPolicyBody(policy)).toEqual({
      name: 'platform-image-registry-reg-abc123def456',
      enabled: true,
      event_types: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT', 'SCANNING_COMPLETED'],
      targets: [{ type: 'http', address: 'https://svc.test/webhooks/harbor/reg-abc123def456', auth_header: `Bearer ${projectSecret}`, skip_cert_verify: false, payload_format: 'Default' }],
    });
  });
});

describe('the CLI progress bar', () => {
  const stream = (isTTY: boolean) => {
    const written: string[] = [];
    return { written, target: { isTTY, write: (s: string) => written.push(s) } };
  };

  it('renders a bar with percent and counts, and a full bar for an empty job', () => {
    expect(renderBar('apply', 5, 20, 10)).toBe('apply        [###-------]  25% 5/20');
    expect(renderBar('apply', 0, 0, 4)).toBe('apply        [####] 100% 0/0');
  });

  it('redraws one line per phase on a terminal, and prints a line per 10% in a log', () => {
    const tty = stream(true);
    const bar = progressBar(tty.target);
    for (let i = 0; i <= 4; i++) bar.update('tags', i, 4);
    bar.update('apply', 1, 2);
    bar.end();
    expect(tty.written.filter((w) => w.startsWith('\r'))).toHaveLength(6);
    expect(tty.written.filter((w) => w === '\n')).toHaveLength(2);

    const log = stream(false);
    const quiet = progressBar(log.target);
    for (let i = 0; i <= 1000; i++) quiet.update('tags', i, 1000);
    expect(log.written).toHaveLength(11);
    expect(log.written.at(-1)).toBe(`${renderBar('tags', 1000, 1000)}\n`);
  });
});
