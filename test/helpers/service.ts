import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signJwt } from '../../shared/local/jwt.ts';
import { freePort } from './dynamodb-local.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const TEST_JWT_SECRET = 'e2e-secret-that-is-long-enough-0123456789';

/**
 * Runs the service exactly as `npm start` does (tsx shared/local/main.ts), in its own process, on a free
 * loopback port with its own data dir; `restart` keeps the data dir.
 */
export const startService = async (opts: { dataDir?: string; env?: Record<string, string> } = {}) => {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'image-registry-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';

  const boot = async () => {
    output = '';
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'shared/local/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_JWT_SECRET, POWERTOOLS_LOG_LEVEL: process.env.SVC_LOG_LEVEL ?? 'WARN', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d));
    child.stderr?.on('data', (d: Buffer) => (output += d));
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited: ${output}`);
      try {
        if ((await fetch(`${url}/health`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() - started > 30_000) throw new Error(`service did not start in 30 s: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const halt = () =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });

  await boot();
  const token = (claims: Record<string, unknown>, ttl = 600) => signJwt({ sub: 'tester', ...claims }, TEST_JWT_SECRET, ttl);
  const adminToken = token({ roles: ['platform-admin'] });

  /** fetch against the service with a JSON body and a token (admin unless `token` is given; `null` for none). */
  const call = async (method: string, path: string, body?: unknown, auth: string | null = adminToken, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, text };
  };

  return {
    url,
    dataDir,
    token,
    adminToken,
    call,
    output: () => output,
    restart: async () => {
      await halt();
      await boot();
    },
    stop: async () => {
      await halt();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
export type Service = Awaited<ReturnType<typeof startService>>;

/** Polls `check` until it returns true, for at most `ms`; returns how long it took, or throws. */
export const eventually = async (check: () => Promise<boolean>, ms = 1000) => {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
