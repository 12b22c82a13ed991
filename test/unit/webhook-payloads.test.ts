import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DomainError } from '../../shared/errors.ts';
import { parseDistributionWebhook } from '../../shared/webhooks/distribution-payload.ts';
import { parseHarborWebhook } from '../../shared/webhooks/harbor-payload.ts';
import { fixture } from '../helpers/fixtures.ts';

const HarborDefault = z.looseObject({ event_data: z.looseObject({ repository: z.record(z.string(), z.unknown()) }) });
const Envelope = z.object({ events: z.array(z.record(z.string(), z.unknown())) });

describe('Harbor webhook payloads', () => {
  it('reads a Default-format push by tag, with Harbor seconds turned into milliseconds, and names its project', () => {
    expect(parseHarborWebhook(fixture('harbor/push_artifact.default.json'))).toEqual({
      project: 'library',
      changes: [
        {
          action: 'push',
          path: 'library/rumput',
          tag: 'v1',
          digest: 'sha256:76525f02955aec223342400a080c73024c995c9db1ba2eabf7505cf3bdf3f1f0',
          eventTime: 1737446601000,
          at: 'event_data.resources[0]',
          operator: 'admin',
        },
      ],
    });
  });

  it('never takes the visibility a payload claims (repo_type is not read)', () => {
    const body = HarborDefault.parse(fixture('harbor/push_artifact.default.json'));
    expect(body.event_data.repository.repo_type).toBe('public');
    for (const change of parseHarborWebhook(body).changes) expect(Object.keys(change)).not.toContain('visibility');
  });

  it('refuses a repository that claims to be in another project than its full name says', () => {
    const body = HarborDefault.parse(fixture('harbor/push_artifact.default.json'));
    body.event_data.repository.namespace = 'other';
    expect(() => parseHarborWebhook(body)).toThrow(/is not in project "other"/);
  });

  it('reads a push whose tag is a digest as naming no tag', () => {
    for (const name of ['harbor/push_artifact.default.website-docs.json', 'harbor/push_artifact.cloudevents.json']) {
      const [change] = parseHarborWebhook(fixture(name)).changes;
      expect(change).toMatchObject({ action: 'push', path: 'harbor/alpine' });
      expect(change && 'tag' in change ? change.tag : undefined).toBeUndefined();
    }
  });

  it('takes the CloudEvents time as the event time', () => {
    expect(parseHarborWebhook(fixture('harbor/push_artifact.cloudevents.json')).changes[0]?.eventTime).toBe(Date.parse('2023-04-03T06:04:46Z'));
  });

  it('reads an artifact delete as removing every tag on the digest, in both formats', () => {
    expect(parseHarborWebhook(fixture('harbor/delete_artifact.default.json')).changes).toEqual([
      {
        action: 'delete-digest',
        path: 'harbor/alpine',
        digest: 'sha256:2bb501e6173d9d006e56de5bce2720eb06396803300fe1687b58a7ff32bf4c14',
        tag: '3.8',
        eventTime: 1680502598000,
        at: 'event_data.resources[0]',
        operator: 'harbor-jobservice',
      },
    ]);
    expect(parseHarborWebhook(fixture('harbor/delete_artifact.cloudevents.json')).changes[0]).toMatchObject({ action: 'delete-digest', at: 'data.resources[0]' });
    expect(parseHarborWebhook(fixture('harbor/delete_artifact.default.community-proposal.json')).changes[0]).toMatchObject({
      action: 'delete-digest',
      tag: 'latest',
    });
  });

  it.each([
    'pull_artifact.default.json',
    'pull_artifact.cloudevents.json',
    'pull_artifact.default.website-docs.json',
    // scanning_completed is read (test/unit/image-details.test.ts).
    'scanning_failed.default.json',
    'scanning_failed.cloudevents.json',
    'scanning_stopped.default.json',
    'scanning_stopped.cloudevents.json',
    'quota_exceed.default.json',
    'quota_exceed.cloudevents.json',
    'quota_warning.default.json',
    'quota_warning.cloudevents.json',
    'replication.default.json',
    'replication.cloudevents.json',
    'tag_retention.default.json',
    'tag_retention.cloudevents.json',
  ])('accepts and ignores %s', (name) => {
    expect(parseHarborWebhook(fixture(`harbor/${name}`))).toEqual({ changes: [] });
  });

  it('takes the operator of both formats only when it is a plain name', () => {
    expect(parseHarborWebhook(fixture('harbor/push_artifact.cloudevents.json')).changes[0]?.operator).toBe('harbor-jobservice');
    const body = HarborDefault.parse(fixture('harbor/push_artifact.default.json'));
    for (const operator of ['x'.repeat(256), 'a\rb', '   ', { name: 'admin' }]) expect(parseHarborWebhook({ ...body, operator }).changes[0]).not.toHaveProperty('operator');
    const { operator: _, ...anonymous } = body;
    expect(parseHarborWebhook(anonymous).changes).toMatchObject([{ action: 'push', tag: 'v1' }]);
  });

  it('refuses a body that is neither format', () => {
    expect(() => parseHarborWebhook({ hello: 'world' })).toThrow(DomainError);
    expect(() => parseHarborWebhook({ type: 'PUSH_ARTIFACT', occur_at: 1, event_data: { resources: 'x' } })).toThrow(/malformed/);
  });
});

describe('Docker Registry notifications', () => {
  it('reads a manifest push with a tag', () => {
    expect(parseDistributionWebhook(fixture('distribution/manifest-push.json'))).toEqual([
      {
        action: 'push',
        path: 'space/app',
        tag: '1.0',
        digest: 'sha256:b26e9313062c343a0805c5ca3d41052bb846476bba77de7540d8f20eff759083',
        eventTime: Date.parse('2026-11-27T00:10:32.110Z'),
        at: 'events[0]',
        operator: 'lab',
        // Config and layers (263 + 111 + 120): the image, not `target.size` (the manifest's own 555 bytes).
        details: { size: 494 },
      },
    ]);
  });

  it('ignores blob pushes and pulls', () => {
    expect(parseDistributionWebhook(fixture('distribution/layer-blob-push.json'))).toEqual([]);
    expect(parseDistributionWebhook(fixture('distribution/manifest-pull.json'))).toEqual([]);
  });

  it('reads a manifest delete by digest and a tag delete', () => {
    expect(parseDistributionWebhook(fixture('distribution/manifest-delete.json'))).toEqual([
      { action: 'delete-digest', path: 'space/app', digest: 'sha256:b26e9313062c343a0805c5ca3d41052bb846476bba77de7540d8f20eff759083', eventTime: Date.parse('2026-11-27T00:10:32.425Z'), at: 'events[0]', operator: 'lab' },
    ]);
    expect(parseDistributionWebhook(fixture('distribution/tag-delete.json'))).toEqual([
      { action: 'delete-tag', path: 'space/app', tag: 'latest', eventTime: Date.parse('2026-11-27T00:10:32.427Z'), at: 'events[0]', operator: 'lab' },
    ]);
  });

  it('takes the acting user only when it is a plain name, and never refuses an event for it', () => {
    const body = Envelope.parse(fixture('distribution/manifest-push.json'));
    const [event] = body.events;
    const withActor = (actor: unknown) => parseDistributionWebhook({ events: [{ ...event, actor }] })[0]?.operator;
    expect(withActor({ name: 'x'.repeat(255) })).toBe('x'.repeat(255));
    for (const odd of [{ name: 'x'.repeat(256) }, { name: 'ev\nil' }, { name: 'a\u0085b' }, { name: '' }, { name: 7 }, 'lab', null, undefined])
      expect(withActor(odd)).toBeUndefined();
  });

  it('refuses a body without an events array', () => {
    expect(() => parseDistributionWebhook({ event: [] })).toThrow(/envelope/);
  });

  it('names the index of a malformed event', () => {
    const body = Envelope.parse(fixture('distribution/manifest-push.json'));
    body.events.push({ id: 'x', action: 'push' });
    expect(() => parseDistributionWebhook(body)).toThrow(/events\[1\] is malformed/);
  });
});
