import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { signJwt } from '../shared/local/jwt.ts';
import { startRuntime } from '../shared/local/runtime.ts';
import { harborProjectSecret } from '../shared/usecases/webhook-secrets.ts';
import { keys } from '../shared/store/keys.ts';
import { createDocumentClient } from '../shared/store/table.ts';
import { summary, timed } from './stats.ts';

const REPOS_PUBLIC = 2500;
const REPOS_PRIVATE = 2500;
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

/**
 * Selector latency on the embedded runtime (what `npm start` runs, store on disk) for a namespace that sees
 * 5,000 repositories (2,500 public in a Docker Registry, 2,500 private in a Harbor space bound to its
 * workspace), next to the same Queries straight against the store; then push → selectable latency.
 */
export const runSelectorBench = async (log: (line: string) => void) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'image-registry-bench-'));
  const secret = 'bench-secret-0123456789abcdef';
  const rt = await startRuntime({ port: 0, dataDir, jwtSecret: secret });
  const admin = signJwt({ sub: 'bench', roles: ['platform-admin'] }, secret);
  const reader = signJwt({ sub: 'reader', workspaces: ['team-a'] }, secret);
  const api = async (method: string, path: string, body?: unknown, token: string | null = admin, headers: Record<string, string> = {}) => {
    const res = await fetch(`${rt.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  try {
    const dr = (await api('POST', '/api/v1/registries', { name: 'dr', kind: 'docker-registry', mode: 'integrated', url: 'http://127.0.0.1:9' })) as { id: string; webhook: { secret: string } };
    const hb = (await api('POST', '/api/v1/registries', { name: 'hb', kind: 'harbor', mode: 'integrated', url: 'http://127.0.0.2:9' })) as { id: string; host: string; webhook: { secret: string } };
    await api('PUT', '/api/v1/workspaces/team-a', {});
    await api('PUT', '/api/v1/clusters/bench/namespaces/shop', { workspaceId: 'team-a' });

    const t0 = performance.now();
    for (let i = 0; i < REPOS_PUBLIC; i += 100) {
      const events = Array.from({ length: 100 }, (_, j) => ({
        id: `e-${i + j}`,
        timestamp: new Date(1_760_000_000_000 + i + j).toISOString(),
        action: 'push',
        target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest(i + j), repository: `pub/app-${String(i + j).padStart(5, '0')}`, tag: '1.0' },
      }));
      await api('POST', `/webhooks/distribution/${dr.id}`, { events }, null, { authorization: `Bearer ${dr.webhook.secret}` });
    }
    const harborPush = (repo: string, tag: string, n: number) =>
      api('POST', `/webhooks/harbor/${hb.id}`, {
        type: 'PUSH_ARTIFACT',
        occur_at: 1_760_000_000 + n,
        operator: 'bench',
        event_data: {
          resources: [{ digest: digest(100_000 + n), tag, resource_url: `${hb.host}/secret/${repo}:${tag}` }],
          repository: { name: repo, namespace: 'secret', repo_full_name: `secret/${repo}`, repo_type: 'private' },
        },
      }, null, { authorization: `Bearer ${harborProjectSecret(hb.webhook.secret, 'secret')}` });
    for (let i = 0; i < REPOS_PRIVATE; i++) await harborPush(`svc-${String(i).padStart(5, '0')}`, 'v1', i);
    await api('PUT', `/api/v1/registries/${hb.id}/spaces/secret/bindings/team-a`);
    await rt.bus.idle();
    log(`seeded ${REPOS_PUBLIC + REPOS_PRIVATE} repositories through webhooks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const first = (await api('GET', '/api/v1/clusters/bench/namespaces/shop/images?limit=100', undefined, reader)) as { items: unknown[]; nextCursor: string | null };
    let seen = first.items.length;
    const cursors: string[] = [];
    for (let cursor = first.nextCursor; cursor; ) {
      cursors.push(cursor);
      const page = (await api('GET', `/api/v1/clusters/bench/namespaces/shop/images?limit=100&cursor=${encodeURIComponent(cursor)}`, undefined, reader)) as { items: unknown[]; nextCursor: string | null };
      seen += page.items.length;
      cursor = page.nextCursor;
    }
    log(`the namespace sees ${seen} repositories (${cursors.length + 1} pages of 100)`);
    if (seen !== REPOS_PUBLIC + REPOS_PRIVATE) throw new Error(`expected ${REPOS_PUBLIC + REPOS_PRIVATE} visible repositories, saw ${seen}`);

    const pageTimes: number[] = [];
    for (let i = 0; i < 300; i++) {
      const cursor = i % 3 === 0 ? undefined : cursors[(i * 7) % cursors.length];
      const path = `/api/v1/clusters/bench/namespaces/shop/images?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      pageTimes.push(await timed(() => api('GET', path, undefined, reader)));
    }
    log(`selector page (HTTP, 50 items, reader token): ${summary(pageTimes)}`);

    // The admission webhook: a Pod CREATE (the fixture's shape) with three containers, all allowed, and one refused.
    const { admissionToken } = (await api('PUT', '/api/v1/clusters/bench', { unmanagedImages: 'deny' })) as { admissionToken: string };
    await api('PUT', '/api/v1/workspaces/team-b', {});
    await api('PUT', '/api/v1/clusters/bench/namespaces/other', { workspaceId: 'team-b' });
    const pad = (n: number) => String(n).padStart(5, '0');
    const review = (namespace: string, images: string[], i: number) => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: `bench-${i}`,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        namespace,
        operation: 'CREATE',
        userInfo: { username: 'bench' },
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace }, spec: { containers: images.map((image, c) => ({ name: `c${c}`, image })) } },
        oldObject: null,
        dryRun: false,
      },
    });
    const admit = async (namespace: string, images: string[], i: number) => {
      const answer = (await api('POST', '/admission/clusters/bench', review(namespace, images, i), null, { authorization: `Bearer ${admissionToken}` })) as { response: { allowed: boolean } };
      return answer.response.allowed;
    };
    const threeImages = (i: number) => [`${hb.host}/secret/svc-${pad((i * 7) % REPOS_PRIVATE)}:v1`, `127.0.0.1:9/pub/app-${pad((i * 11) % REPOS_PUBLIC)}:1.0`, `${hb.host}/secret/svc-${pad((i * 13) % REPOS_PRIVATE)}@${digest(7)}`];
    const admitTimes: number[] = [];
    for (let i = 0; i < 300; i++) {
      let allowed = false;
      admitTimes.push(await timed(async () => void (allowed = await admit('shop', threeImages(i), i))));
      if (!allowed) throw new Error(`review ${i} was refused: ${threeImages(i).join(', ')}`);
    }
    log(`admission review (HTTP, Pod with 3 containers, all allowed): ${summary(admitTimes)}`);
    const refuseTimes: number[] = [];
    for (let i = 0; i < 100; i++) {
      let allowed = true;
      refuseTimes.push(await timed(async () => void (allowed = await admit('other', threeImages(i), i))));
      if (allowed) throw new Error(`review ${i} from another workspace was allowed`);
    }
    log(`admission review refused (another workspace: 2 private images explained, logged): ${summary(refuseTimes)}`);

    const searchTimes: number[] = [];
    for (let i = 0; i < 50; i++) searchTimes.push(await timed(() => api('GET', `/api/v1/clusters/bench/namespaces/shop/images?limit=50&q=svc-0${i % 10}`, undefined, reader)));
    log(`selector search q=<substring> (scans both audiences): ${summary(searchTimes)}`);

    const floorTimes: number[] = [];
    const doc = createDocumentClient(rt.storeEndpoint, 'local');
    for (let i = 0; i < 300; i++) {
      floorTimes.push(
        await timed(() =>
          Promise.all(
            ['public', 'workspace:team-a'].map((a) =>
              doc.send(new QueryCommand({ TableName: rt.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.audiencePage(a).pk }, Limit: 51 })),
            ),
          ),
        ),
      );
    }
    doc.destroy();
    log(`floor: the same two Queries straight against the store: ${summary(floorTimes)}`);

    const accepted: number[] = [];
    const selectable: number[] = [];
    for (let i = 0; i < 50; i++) {
      const repo = `fresh-${i}`;
      const image = `${hb.host}/secret/${repo}`;
      const t = performance.now();
      await harborPush(repo, 'v1', 10_000 + i);
      accepted.push(performance.now() - t);
      for (;;) {
        const res = await fetch(`${rt.url}/api/v1/clusters/bench/namespaces/shop/tags?image=${encodeURIComponent(image)}`, { headers: { authorization: `Bearer ${reader}` } });
        await res.arrayBuffer();
        if (res.status === 200) break;
        if (performance.now() - t > 10_000) throw new Error(`${image} not selectable after 10 s`);
      }
      selectable.push(performance.now() - t);
    }
    log(`webhook accepted (stored durably, 200 sent): ${summary(accepted)}`);
    log(`push → selectable (webhook sent → visible in the namespace's selector): ${summary(selectable)}`);
  } finally {
    await rt.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
