import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformsOf } from '../../shared/domain/image-details.ts';
import { createDistributionClient } from '../../shared/registries/distribution-client.ts';
import { createHarborClient } from '../../shared/registries/harbor-client.ts';
import { listHarbor } from '../../shared/registries/listing.ts';
import { parseHarborWebhook } from '../../shared/webhooks/harbor-payload.ts';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { fixture } from '../helpers/fixtures.ts';
import { writeOciMultiArchImage } from '../helpers/oci.ts';

const REPORT = 'application/vnd.security.vulnerability.report; version=1.1';
const DIGEST = 'sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4';

type ScanFixture = { event_data?: { resources: { scan_overview: Record<string, Record<string, unknown>> }[] }; data?: ScanFixture['event_data'] };
/** The captured scan event with a report that found something (Harbor's own summary shape). */
const withFindings = (name: string) => {
  const body = structuredClone(fixture(name)) as ScanFixture;
  const report = (body.event_data ?? body.data)?.resources[0]?.scan_overview[REPORT];
  if (!report) throw new Error('fixture has no report');
  report.severity = 'Critical';
  report.summary = { total: 9, fixable: 4, summary: { Critical: 2, High: 3, Medium: 1, Low: 2, Unknown: 1 } };
  return body;
};

describe('Harbor SCANNING_COMPLETED', () => {
  for (const name of ['harbor/scanning_completed.default.json', 'harbor/scanning_completed.cloudevents.json'])
    it(`reads the scan summary of ${name}`, () => {
      expect(parseHarborWebhook(fixture(name))).toEqual({
        project: 'harbor',
        changes: [],
        scans: [
          {
            path: 'harbor/alpine',
            digest: DIGEST,
            scan: { severity: 'none', total: 0, fixable: 0, counts: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 }, scanner: 'Trivy v0.37.2', completedAt: '2023-04-03T06:12:55.000Z' },
          },
        ],
      });
      expect(parseHarborWebhook(withFindings(name)).scans?.[0]?.scan).toMatchObject({ severity: 'critical', total: 9, fixable: 4, counts: { critical: 2, high: 3, medium: 1, low: 2, unknown: 1 } });
    });

  it('refuses a scan it cannot read whole, and ignores a scan that did not succeed', () => {
    const bad = withFindings('harbor/scanning_completed.default.json');
    const report = bad.event_data?.resources[0]?.scan_overview[REPORT] ?? {};
    report.severity = 'Apocalyptic';
    expect(() => parseHarborWebhook(bad)).toThrow(/severity "Apocalyptic"/);
    report.severity = 'High';
    report.summary = { total: -1 };
    expect(() => parseHarborWebhook(bad)).toThrow(/event_data.resources\[0\]/);
    report.summary = { total: 1, fixable: 0, summary: { High: 1 } };
    report.scan_status = 'Error';
    expect(parseHarborWebhook(bad).scans).toEqual([]);
    const wrongDigest = structuredClone(fixture('harbor/scanning_completed.default.json')) as { event_data: { resources: { digest: string }[] } };
    wrongDigest.event_data.resources[0] = { ...wrongDigest.event_data.resources[0], digest: 'not a digest' };
    expect(() => parseHarborWebhook(wrongDigest)).toThrow(/not a digest/);
  });
});

describe('platforms', () => {
  it('are os/architecture[/variant], sorted, distinct, bounded, without attestations', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ os: 'linux', architecture: `arch${String(i).padStart(2, '0')}` }));
    expect(platformsOf([{ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'unknown', architecture: 'unknown' }, { os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64' }])).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(platformsOf(many)).toHaveLength(16);
    expect(platformsOf([{ os: 'linux', architecture: 'a/b' }, { os: 'x'.repeat(40), architecture: 'amd64' }, { os: 7, architecture: 'amd64' }])).toEqual([]);
  });
});

describe('Harbor artifacts', () => {
  let harbor: FakeHarbor;
  beforeAll(async () => {
    harbor = await startFakeHarbor();
  });
  afterAll(() => harbor.close());

  it('give an index its children’s platforms and summed size, an image its size, platform and scan', async () => {
    harbor.state.addProject('apps', { public: true });
    const amd = harbor.state.addArtifact('apps', 'web', fakeDigest('amd'), [], new Date(1_000));
    const arm = harbor.state.addArtifact('apps', 'web', fakeDigest('arm'), [], new Date(1_000));
    const att = harbor.state.addArtifact('apps', 'web', fakeDigest('att'), [], new Date(1_000));
    amd.size = 3000;
    arm.size = 2000;
    att.size = 50;
    arm.extraAttrs = { os: 'linux', architecture: 'arm64', variant: 'v8' };
    const index = harbor.state.addArtifact('apps', 'web', fakeDigest('index'), ['multi'], new Date(2_000));
    index.size = 700;
    index.references = [
      { childDigest: amd.digest, platform: { os: 'linux', architecture: 'amd64' } },
      { childDigest: arm.digest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { childDigest: att.digest, platform: { os: 'unknown', architecture: 'unknown' } },
    ];
    const single = harbor.state.addArtifact('apps', 'web', fakeDigest('single'), ['single'], new Date(3_000));
    single.size = 1234;
    single.scanOverview = (withFindings('harbor/scanning_completed.default.json').event_data?.resources[0]?.scan_overview ?? {}) as Record<string, unknown>;
    const listing = await listHarbor(createHarborClient({ url: harbor.url, credentials: harbor.credentials }));
    const tags = listing.spaces.find((s) => s.name === 'apps')?.repositories[0]?.tags ?? [];
    expect(tags.find((t) => t.tag === 'multi')?.details).toEqual({ size: 5000, platforms: ['linux/amd64', 'linux/arm64/v8'] });
    expect(tags.find((t) => t.tag === 'single')?.details).toMatchObject({ size: 1234, platforms: ['linux/amd64'], scan: { severity: 'critical', counts: { critical: 2 } } });
  });
});

describe('a Docker Registry manifest', () => {
  let server: Server;
  let url = '';
  let dir = '';
  const blobs = new Map<string, string>();
  /** Every blob of the layout (configs and layers too), served under `/blobs/`. */
  const configs = new Map<string, string>();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'details-'));
    const image = await writeOciMultiArchImage(dir, 'app');
    for (const d of [image.digest, ...image.manifests.map((m) => m.digest)]) blobs.set(d, await readFile(join(dir, 'blobs', 'sha256', d.slice(7)), 'utf8'));
    blobs.set('sha256:' + '0'.repeat(64), blobs.get(image.digest) ?? '');
    for (const file of await readdir(join(dir, 'blobs', 'sha256'))) configs.set(`sha256:${file}`, await readFile(join(dir, 'blobs', 'sha256', file), 'utf8'));
    server = createServer((req, res) => {
      const [, kind, digest = ''] = /\/(manifests|blobs)\/(.+)$/.exec(req.url ?? '') ?? [];
      const body = (kind === 'manifests' ? blobs : configs).get(digest);
      if (!body) return void res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      res.writeHead(200, { 'content-type': kind === 'manifests' ? JSON.parse(body).mediaType : 'application/octet-stream', 'docker-content-digest': digest }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('gives an index its platforms and the sum of its images, an image its config and layers and its platform, and refuses a body that is not the digest', async () => {
    const client = createDistributionClient({ url });
    const [indexDigest, amd = '', arm = ''] = [...blobs.keys()];
    const sizeOf = (digest: string) => {
      const manifest = JSON.parse(blobs.get(digest) ?? '{}') as { config: { size: number }; layers: { size: number }[] };
      return manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
    };
    const size = sizeOf(amd);
    expect(size).toBeGreaterThan(0);
    expect(await client.manifestDetails('team/app', indexDigest ?? '')).toEqual({ platforms: ['linux/amd64', 'linux/arm64/v8'], size: size + sizeOf(arm) });
    expect(await client.manifestDetails('team/app', amd)).toEqual({ size, platforms: ['linux/amd64'] });
    expect(await client.manifestDetails('team/app', arm)).toEqual({ size: sizeOf(arm), platforms: ['linux/arm64/v8'] });
    // A part that does not read leaves its field out: a platform's manifest gone (no index size), a config that is
    // not its digest (no platform: `[]`, read and not known).
    const armBody = blobs.get(arm) ?? '';
    blobs.delete(arm);
    expect(await client.manifestDetails('team/app', indexDigest ?? '')).toEqual({ platforms: ['linux/amd64', 'linux/arm64/v8'] });
    blobs.set(arm, armBody);
    const config = (JSON.parse(blobs.get(amd) ?? '{}') as { config: { digest: string } }).config.digest;
    const configBody = configs.get(config) ?? '';
    configs.set(config, configBody.replace('amd64', 'arm64'));
    expect(await client.manifestDetails('team/app', amd)).toEqual({ size, platforms: [] });
    configs.set(config, configBody);
    await expect(client.manifestDetails('team/app', 'sha256:' + '0'.repeat(64))).rejects.toMatchObject({ kind: 'unavailable' });
    expect(await client.manifestDetails('team/app', 'sha256:' + '1'.repeat(64))).toBeUndefined();
  });
});
