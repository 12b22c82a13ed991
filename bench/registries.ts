import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signJwt } from '../shared/local/jwt.ts';
import { logger } from '../shared/logger.ts';
import { startRuntime } from '../shared/local/runtime.ts';
import { createDistributionClient } from '../shared/registries/distribution-client.ts';
import { mapLimit } from '../shared/registries/pool.ts';
import { reconcileRegistry, type ReconcileProgress } from '../shared/usecases/reconcile.ts';
import { startDockerRegistry } from '../test/helpers/docker-registry.ts';
import { writeOciImages } from '../test/helpers/oci.ts';
import { summary, timed } from './stats.ts';

/** `BENCH_REGISTRY_SIZES=200,2000` (the default) sets how many images each round pushes. */
const SIZES = (process.env.BENCH_REGISTRY_SIZES ?? '200,2000').split(',').map(Number).filter((n) => n > 0);
/** Pushes in flight: skopeo spends most of a push waiting on its blob-info cache's fsyncs, not on CPU. */
const PUSH_PARALLEL = 8;

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor((samples.length - 1) / 2)] ?? NaN;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * One round: a real Docker Registry 2.8 (htpasswd bcrypt auth, as deployed) holding `n` images (one
 * repository each, tag `1.0`, in 4 spaces) pushed by skopeo, and the service on the embedded runtime. The
 * registry sends no notification, so the truth learns everything from reconcile (what a lost queue or a
 * never-configured webhook leaves to it).
 */
const round = async (n: number, log: (line: string) => void) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'image-registry-bench-reg-'));
  const ociDir = mkdtempSync(join(tmpdir(), 'oci-bench-'));
  const secret = 'bench-secret-0123456789abcdef';
  const registry = await startDockerRegistry();
  const rt = await startRuntime({ port: 0, dataDir, jwtSecret: secret });
  const admin = signJwt({ sub: 'bench', roles: ['platform-admin'] }, secret);
  const reader = signJwt({ sub: 'reader', workspaces: ['team-a'] }, secret);
  const api = async (method: string, path: string, body?: unknown, token = admin) => {
    const res = await fetch(`${rt.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  try {
    const credentials = { username: registry.username, password: registry.password };
    const created = (await api('POST', '/api/v1/registries', { name: 'dr', kind: 'docker-registry', mode: 'integrated', url: registry.url, credentials })) as { id: string };
    await api('PUT', '/api/v1/workspaces/team-a', {});
    await api('PUT', '/api/v1/clusters/bench/namespaces/shop', { workspaceId: 'team-a' });
    await rt.bus.idle();

    const names = Array.from({ length: n }, (_, i) => `bench${i % 4}/app-${String(i).padStart(5, '0')}`);
    const images = await writeOciImages(ociDir, names, `bench-${n}`);
    const pushMs = await timed(() => mapLimit(images, PUSH_PARALLEL, (image) => registry.push(image.ref, `${image.name}:1.0`)));
    log(`[${n}] pushed ${n} images with skopeo, ${PUSH_PARALLEL} at a time, in ${s(pushMs)} (${(pushMs / n).toFixed(0)} ms per image)`);

    const stored = await rt.deps.store.registries.get(created.id);
    if (!stored) throw new Error('registry not stored');
    /** Reconciles once; returns the total and where the time went (listing, compare with the truth, apply). */
    const reconcile = async () => {
      const phases = new Map<ReconcileProgress['phase'], number>();
      const t0 = performance.now();
      const onProgress = (p: ReconcileProgress) => void (phases.has(p.phase) || phases.set(p.phase, performance.now() - t0));
      const report = await reconcileRegistry(stored, rt.deps, { correlationId: 'bench', actor: 'bench' }, { onProgress });
      const total = performance.now() - t0;
      const at = (phase: ReconcileProgress['phase']) => phases.get(phase) ?? NaN;
      const parts = `listing ${s(at('compare'))}, compare ${s(at('apply') - at('compare'))}, apply ${s(total - at('apply'))}`;
      return { report, total, parts, t0 };
    };
    const first = await reconcile();
    await rt.bus.idle();
    const indexedMs = performance.now() - first.t0;
    if (first.report.tags?.pushed !== n) throw new Error(`reconcile pushed ${first.report.tags?.pushed}, expected ${n}`);
    log(`[${n}] reconcile, first import of ${n} tags: ${s(first.total)} (${first.parts}); every namespace's selector complete after ${s(indexedMs)} (embedded runtime: one indexer, serial)`);
    const steady = await reconcile();
    if (steady.report.tags?.pushed !== 0 || steady.report.tags.deleted !== 0) throw new Error('a second reconcile found changes');
    log(`[${n}] reconcile with nothing to change (the every-10-minutes case): ${s(steady.total)} (${steady.parts})`);

    const client = createDistributionClient({ url: registry.url, credentials, pageSize: 100 });
    const live = async (concurrency: number) => {
      const repos = await client.catalog();
      const tags = await mapLimit(repos, concurrency, async (repo) => ({ repo, tags: await client.tags(repo) }));
      const pairs = tags.flatMap((t) => t.tags.map((tag) => ({ repo: t.repo, tag })));
      const digests = await mapLimit(pairs, concurrency, ({ repo, tag }) => client.manifestDigest(repo, tag));
      if (digests.filter(Boolean).length !== n) throw new Error(`live listing found ${digests.length} tags, expected ${n}`);
    };
    const runs = n > 1000 ? 3 : 5;
    const serial: number[] = [];
    const parallel: number[] = [];
    for (let i = 0; i < runs; i++) {
      serial.push(await timed(() => live(1)));
      parallel.push(await timed(() => live(8)));
    }
    log(`[${n}] live listing from the registry (catalog → tags/list → HEAD manifest, ${2 * n + Math.ceil(n / 100)} requests): median ${median(serial).toFixed(0)} ms one at a time, ${median(parallel).toFixed(0)} ms 8 in flight (n=${runs})`);

    const page = (cursor?: string) =>
      api('GET', `/api/v1/clusters/bench/namespaces/shop/images?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, reader) as Promise<{ items: unknown[]; nextCursor: string | null }>;
    const pages: number[] = [];
    for (let i = 0; i < 200; i++) pages.push(await timed(() => page()));
    log(`[${n}] our selector page for the same namespace (HTTP, 50 images with latest tag and digest, reader token): ${summary(pages)}`);
    const walks: number[] = [];
    for (let i = 0; i < runs; i++)
      walks.push(
        await timed(async () => {
          let seen = 0;
          for (let cursor: string | null | undefined; cursor !== null; ) {
            const p = await page(cursor);
            seen += p.items.length;
            cursor = p.nextCursor;
          }
          if (seen !== n) throw new Error(`the selector offers ${seen} images, expected ${n}`);
        }),
      );
    log(`[${n}] our selector, every page of the namespace (${Math.ceil(n / 50)} pages of 50): median ${median(walks).toFixed(0)} ms (n=${runs})`);
  } finally {
    await rt.close();
    await registry.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(ociDir, { recursive: true, force: true });
  }
};

/**
 * `npm run bench` (registries): for each size, the live listing a client without our index does against a real
 * Docker Registry next to our selector for the same namespace, and reconcile time (first import, then steady
 * state). Needs Debian's docker-registry, skopeo and apache2-utils. Nothing here asserts a time.
 */
export const runRegistryBench = async (log: (line: string) => void) => {
  // The reconcile's own progress and per-chunk logs would drown the bench lines.
  const level = logger.getLevelName();
  if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('WARN');
  try {
    for (const n of SIZES) await round(n, log);
  } finally {
    logger.setLogLevel(level);
  }
};
