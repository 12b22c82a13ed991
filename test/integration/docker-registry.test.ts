import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDistributionClient } from '../../shared/registries/distribution-client.ts';
import { RegistryCallError } from '../../shared/registries/registry-error.ts';
import { hasDockerRegistry, startDockerRegistry, type DockerRegistry } from '../helpers/docker-registry.ts';
import { OCI_INDEX, OCI_MANIFEST, writeOciImages, writeOciMultiArchImage, type OciImage } from '../helpers/oci.ts';

const Event = z.object({
  id: z.string(),
  timestamp: z.string(),
  action: z.string(),
  target: z.object({
    mediaType: z.string().optional(),
    digest: z.string().optional(),
    repository: z.string(),
    tag: z.string().optional(),
    references: z.array(z.object({ mediaType: z.string(), digest: z.string() })).optional(),
  }),
  request: z.object({ id: z.string(), method: z.string() }),
});
type Event = z.infer<typeof Event>;
const Envelope = z.object({ events: z.array(Event) });

type Delivery = { status: number; authorization?: string; contentType?: string; events: Event[] };

/** A notification endpoint on 127.0.0.1 that records every delivery; it can refuse the next few with 503. */
const startReceiver = async (token: string) => {
  const deliveries: Delivery[] = [];
  const malformed: string[] = [];
  let refuseNext = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let status = 200;
      let events: Event[] = [];
      try {
        events = Envelope.parse(JSON.parse(raw)).events;
      } catch {
        malformed.push(raw);
        status = 400;
      }
      if (req.headers.authorization !== `Bearer ${token}`) status = 401;
      else if (refuseNext > 0) {
        refuseNext--;
        status = 503;
      }
      deliveries.push({ status, authorization: req.headers.authorization, contentType: req.headers['content-type'], events });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('receiver has no port');
  return {
    url: `http://127.0.0.1:${address.port}/events`,
    deliveries,
    malformed,
    /** Events of the deliveries answered 200. */
    accepted: () => deliveries.filter((d) => d.status === 200).flatMap((d) => d.events),
    refuse: (n: number) => {
      refuseNext = n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

const waitFor = async <T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> => {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('a real Docker Registry 2.8 read through the distribution client', () => {
  const token = randomBytes(12).toString('hex');
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let registry: DockerRegistry;
  let ociDir: string;
  let images: Record<string, OciImage>;
  const pushedRepos = new Set<string>();
  let markers = 0;

  const client = (pageSize?: number) =>
    createDistributionClient({ url: registry.url, credentials: { username: registry.username, password: registry.password }, pageSize });

  const push = async (image: OciImage | undefined, repoAndTag: string, opts?: { all?: boolean }) => {
    if (!image) throw new Error(`no image for ${repoAndTag}`);
    const pushed = await registry.push(image.ref, repoAndTag, opts);
    pushedRepos.add(repoAndTag.split(/[:@]/)[0] ?? repoAndTag);
    return pushed;
  };

  const accepted = (pred: (e: Event) => boolean) => receiver.accepted().filter(pred);

  /**
   * The registry sends one endpoint's events in order: once the push of a fresh marker image is delivered,
   * every event caused before it has been delivered (or was filtered out).
   */
  const drain = async () => {
    const repo = `marker/m${++markers}`;
    await push(images.marker, `${repo}:1`);
    await waitFor(`the ${repo} push event`, () => accepted((e) => e.target.repository === repo).length > 0);
  };

  beforeAll(async () => {
    // Never skipped: .ci/run installs these Debian packages.
    if (!hasDockerRegistry()) throw new Error('needs Debian packages docker-registry, skopeo and apache2-utils (see .ci/run)');
    receiver = await startReceiver(token);
    registry = await startDockerRegistry({ notifyUrl: receiver.url, notifyToken: token });
    ociDir = await mkdtemp(join(tmpdir(), 'oci-'));
    const written = await writeOciImages(ociDir, ['alpine', 'team/app', 'team/sub/app', 'deleted', 'marker'], 'docker-registry-test');
    images = Object.fromEntries(written.map((i) => [i.name, i]));
    await push(images.alpine, 'alpine:3.20');
    await push(images['team/app'], 'team/app:1.0');
    await push(images['team/sub/app'], 'team/sub/app:1.0');
    await push(images['team/sub/app'], 'team/sub/app:latest');
  });

  afterAll(async () => {
    await registry?.stop();
    await receiver?.close();
    if (ociDir) await rm(ociDir, { recursive: true, force: true });
  });

  it('answers ping with the credentials and refuses without them or with a wrong password', async () => {
    await expect(client().ping()).resolves.toBeUndefined();
    for (const credentials of [undefined, { username: registry.username, password: 'wrong' }]) {
      const error = await createDistributionClient({ url: registry.url, credentials }).ping().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryCallError);
      expect(error).toMatchObject({ kind: 'unauthorized', status: 401 });
    }
  });

  it('says unavailable when nothing listens at the URL', async () => {
    const gone = createDistributionClient({ url: 'http://127.0.0.1:9', timeoutMs: 2000 });
    await expect(gone.catalog()).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('lists every repository across catalog pages of two, one-segment and nested names included', async () => {
    // The registry really pages at n=2: a client that ignored `Link` would miss repositories.
    const auth = `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`;
    const first = await fetch(`${registry.url}/v2/_catalog?n=2`, { headers: { authorization: auth } });
    expect(z.object({ repositories: z.array(z.string()) }).parse(await first.json()).repositories).toHaveLength(2);
    expect(first.headers.get('link')).toMatch(/rel="next"/);

    const repos = await client(2).catalog();
    expect(repos).toEqual(expect.arrayContaining(['alpine', 'team/app', 'team/sub/app']));
    expect([...repos].sort()).toEqual([...pushedRepos].sort());
  });

  it('lists the tags of a repository, and none for an unknown repository', async () => {
    expect((await client(1).tags('team/sub/app')).sort()).toEqual(['1.0', 'latest']);
    expect(await client().tags('alpine')).toEqual(['3.20']);
    expect(await client().tags('nobody/here')).toEqual([]);
  });

  it('resolves a tag to the digest the push notification carried', async () => {
    const event = await waitFor('the team/app:1.0 push event', () =>
      accepted((e) => e.action === 'push' && e.target.repository === 'team/app' && e.target.tag === '1.0')[0],
    );
    const digest = await client().manifestDigest('team/app', '1.0');
    expect(digest).toBe(event.target.digest);
    expect(digest).toBe(images['team/app']?.digest);
    expect(event.target.mediaType).toBe(OCI_MANIFEST);
    expect(await client().manifestDigest('alpine', '3.20')).toBe(images.alpine?.digest);
    expect(await client().manifestDigest('team/app', 'missing')).toBeUndefined();
    expect(await client().manifestDigest('nobody/here', '1.0')).toBeUndefined();
  });

  it('reports a multi-arch image by the digest of its index', async () => {
    const multi = await writeOciMultiArchImage(ociDir, 'multi', 'docker-registry-test');
    const pushed = await push(multi, 'team/multi:1.0', { all: true });
    expect(pushed.digest).toBe(multi.digest);
    expect(await client().manifestDigest('team/multi', '1.0')).toBe(multi.digest);
    const event = await waitFor('the team/multi:1.0 push event', () =>
      accepted((e) => e.target.repository === 'team/multi' && e.target.tag === '1.0')[0],
    );
    expect(event).toMatchObject({ action: 'push', target: { mediaType: OCI_INDEX, digest: multi.digest } });
    // The platform manifests are pushed by digest first: events without a tag.
    const untagged = accepted((e) => e.target.repository === 'team/multi' && e.target.tag === undefined).map((e) => e.target.digest);
    expect(untagged.sort()).toEqual(multi.manifests.map((m) => m.digest).sort());
  });

  it('posts manifest events with the bearer token and filters out blob and pull events', async () => {
    // Pulls: a HEAD by tag (what manifestDigest does) and a GET.
    await client().manifestDigest('alpine', '3.20');
    const auth = `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`;
    const get = await fetch(`${registry.url}/v2/alpine/manifests/3.20`, { headers: { authorization: auth, accept: OCI_MANIFEST } });
    expect(get.status).toBe(200);
    await get.arrayBuffer();
    await drain();

    expect(receiver.malformed).toEqual([]);
    expect(receiver.deliveries.length).toBeGreaterThan(0);
    for (const d of receiver.deliveries) {
      expect(d.authorization).toBe(`Bearer ${token}`);
      expect(d.contentType).toBe('application/vnd.docker.distribution.events.v1+json');
    }
    const events = receiver.accepted();
    expect(events.filter((e) => e.action === 'pull')).toEqual([]);
    expect(events.filter((e) => e.target.mediaType === 'application/octet-stream')).toEqual([]);
    const push = events.find((e) => e.action === 'push' && e.target.repository === 'team/sub/app' && e.target.tag === 'latest');
    expect(push).toMatchObject({ request: { method: 'PUT' }, target: { digest: images['team/sub/app']?.digest, mediaType: OCI_MANIFEST } });
    // includereferences: the config and both layers.
    expect(push?.target.references).toHaveLength(3);
  });

  it('retries a notification the receiver refused until it is accepted', async () => {
    const before = (await registry.debugVars()).endpoints[0]?.failures ?? 0;
    receiver.refuse(3);
    await push(images.alpine, 'retried/app:1');
    const event = await waitFor('the accepted retried/app push event', () => accepted((e) => e.target.repository === 'retried/app')[0]);
    const attempts = receiver.deliveries.filter((d) => d.events.some((e) => e.id === event.id));
    expect(attempts.map((d) => d.status)).toEqual([503, 503, 503, 200]);
    const after = (await registry.debugVars()).endpoints[0];
    expect(after?.failures).toBe(before + 3);
    expect(after?.pending).toBe(0);
  });

  it('notifies a delete by digest as one manifest delete plus one delete per tag', async () => {
    const image = images.deleted;
    await push(image, 'team/deleted:1.0');
    await push(image, 'team/deleted:stable');
    expect((await client().tags('team/deleted')).sort()).toEqual(['1.0', 'stable']);

    await registry.deleteManifest('team/deleted', image?.digest ?? '');
    await drain();

    const deletes = accepted((e) => e.action === 'delete' && e.target.repository === 'team/deleted');
    expect(deletes.every((e) => e.request.method === 'DELETE')).toBe(true);
    expect(new Set(deletes.map((e) => e.request.id)).size).toBe(1);
    expect(deletes.filter((e) => e.target.tag === undefined).map((e) => e.target.digest)).toEqual([image?.digest]);
    expect(deletes.filter((e) => e.target.tag !== undefined).map((e) => e.target.tag).sort()).toEqual(['1.0', 'stable']);
    expect(await client().tags('team/deleted')).toEqual([]);
    expect(await client().manifestDigest('team/deleted', '1.0')).toBeUndefined();
  });

  it('keeps its images and keeps notifying after a restart', async () => {
    await registry.restart();
    expect(await client().manifestDigest('team/sub/app', 'latest')).toBe(images['team/sub/app']?.digest);
    await drain();
  });
});

describe('tiny OCI images for tests', () => {
  it('are the same for the same seed, differ by seed and share one base layer', async () => {
    const dirs = await Promise.all([1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'oci-'))));
    try {
      const [a, b, c] = await Promise.all([
        writeOciImages(dirs[0] ?? '', ['x', 'y/z'], 'one'),
        writeOciImages(dirs[1] ?? '', ['x', 'y/z'], 'one'),
        writeOciImages(dirs[2] ?? '', ['x', 'y/z'], 'two'),
      ]);
      expect(a?.map((i) => i.digest)).toEqual(b?.map((i) => i.digest));
      expect(new Set([...(a ?? []), ...(c ?? [])].map((i) => i.digest)).size).toBe(4);
      expect(a?.[1]?.ref).toBe(`oci:${dirs[0]}:y/z`);
      const Manifest = z.object({ layers: z.array(z.object({ digest: z.string() })) });
      const layers = await Promise.all(
        (a ?? []).map(async (i) => Manifest.parse(JSON.parse(await readFile(join(dirs[0] ?? '', 'blobs', 'sha256', i.digest.slice(7)), 'utf8'))).layers),
      );
      expect(layers[0]?.[0]?.digest).toBe(layers[1]?.[0]?.digest);
      expect(layers[0]?.[1]?.digest).not.toBe(layers[1]?.[1]?.digest);
    } finally {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});
