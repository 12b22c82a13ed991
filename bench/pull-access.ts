import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signJwt } from '../shared/local/jwt.ts';
import { logger } from '../shared/logger.ts';
import { startRuntime } from '../shared/local/runtime.ts';
import { startFakeHarbor } from '../test/helpers/fake-harbor.ts';
import { summary } from './stats.ts';

/** `BENCH_PULL_ROUNDS=20` (the default): how many unbinds and namespace moves are timed. */
const ROUNDS = Number(process.env.BENCH_PULL_ROUNDS ?? 20);

/** Polls `done` every 2 ms; the ms from `t0` until it holds (throws after 10 s). */
const until = async (t0: number, done: () => boolean | Promise<boolean>) => {
  for (;;) {
    if (await done()) return performance.now() - t0;
    if (performance.now() - t0 > 10_000) throw new Error('not converged within 10 s');
    await new Promise((r) => setTimeout(r, 2));
  }
};

/**
 * Revocation on the running service (embedded runtime, its in-process bus, the HTTP Harbor client) against the
 * contract-faithful fake Harbor on loopback: from the admin's unbind answer to the project leaving the workspace's
 * robot in Harbor, and from a namespace's move to another workspace to the secret it held being refused by Harbor.
 */
export const runPullAccessBench = async (log: (line: string) => void) => {
  logger.setLogLevel('WARN');
  const dataDir = mkdtempSync(join(tmpdir(), 'image-registry-bench-pull-'));
  const secret = 'bench-secret-0123456789abcdef';
  const harbor = await startFakeHarbor();
  const rt = await startRuntime({ port: 0, dataDir, jwtSecret: secret, inMemory: true });
  const admin = signJwt({ sub: 'bench', roles: ['platform-admin'] }, secret);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rt.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const robotOf = (w: string) => harbor.robots().find((r) => r.name === `robot$platform-registry.${w}`);
  const holds = (w: string, project: string) => !!robotOf(w)?.permissions.some((p) => p.namespace === project);
  try {
    const { id } = (await api('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials })) as { id: string };
    for (const w of ['team-a', 'team-b']) await api('PUT', `/api/v1/workspaces/${w}`, {});
    await api('POST', `/api/v1/registries/${id}/spaces`, { name: 'keep', visibility: 'private' });
    await api('PUT', `/api/v1/registries/${id}/spaces/keep/bindings/team-a`);
    await api('POST', `/api/v1/registries/${id}/spaces`, { name: 'flip', visibility: 'private' });

    const bind: number[] = [];
    const unbind: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let t0 = performance.now();
      await api('PUT', `/api/v1/registries/${id}/spaces/flip/bindings/team-a`);
      bind.push(await until(t0, () => holds('team-a', 'flip')));
      t0 = performance.now();
      await api('DELETE', `/api/v1/registries/${id}/spaces/flip/bindings/team-a`);
      unbind.push(await until(t0, () => !holds('team-a', 'flip')));
    }
    log(`pull access: bind → project in the workspace's robot: ${summary(bind)}`);
    log(`pull access: unbind → project gone from the robot: ${summary(unbind)}`);

    const move: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const ns = `shop-${i}`;
      await api('PUT', `/api/v1/clusters/prod/namespaces/${ns}`, { workspaceId: 'team-a' });
      const pullSecret = (await api('GET', `/api/v1/clusters/prod/namespaces/${ns}/pull-secret`)) as { data: Record<string, string> };
      const config = JSON.parse(Buffer.from(pullSecret.data['.dockerconfigjson'] ?? '', 'base64').toString('utf8')) as { auths: Record<string, { username: string; password: string }> };
      const held = config.auths[new URL(harbor.url).host];
      if (!held || !harbor.robotCanPull(held.username, held.password, 'keep')) throw new Error('the namespace cannot pull before the move');
      const t0 = performance.now();
      await api('PUT', `/api/v1/clusters/prod/namespaces/${ns}`, { workspaceId: 'team-b' });
      move.push(await until(t0, () => !harbor.robotCanPull(held.username, held.password, 'keep')));
    }
    log(`pull access: namespace moved to another workspace → its old secret refused by Harbor: ${summary(move)}`);
  } finally {
    await rt.close();
    await harbor.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
