import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { freePort } from './dynamodb-local.ts';

const run = promisify(execFile);

const REGISTRY_BIN = '/usr/bin/docker-registry';

const onPath = (bin: string) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/** True when Debian's `docker-registry`, `skopeo` and `htpasswd` are installed (`.ci/run` installs them). */
export const hasDockerRegistry = () => {
  try {
    accessSync(REGISTRY_BIN, constants.X_OK);
  } catch {
    return false;
  }
  return onPath('skopeo') && onPath('htpasswd');
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type DockerRegistryOptions = {
  /** Where the registry posts its notifications (one endpoint); none when unset. */
  notifyUrl?: string;
  /** Sent as `Authorization: Bearer <notifyToken>` with every notification. */
  notifyToken?: string;
  /** htpasswd (bcrypt) basic auth; default true. */
  auth?: boolean;
  /** Per delivery attempt; default `1s`. */
  notifyTimeout?: string;
  /** Failures in a row before the registry waits `notifyBackoff` between attempts; default 2. */
  notifyThreshold?: number;
  /** default `200ms`. */
  notifyBackoff?: string;
};

/** One notification endpoint's queue metrics from the registry's `/debug/vars`. */
export type NotificationEndpointMetrics = {
  name: string;
  url: string;
  pending: number;
  events: number;
  successes: number;
  failures: number;
  errors: number;
  statuses: Record<string, number>;
};

const DebugVars = z.object({
  registry: z.object({
    notifications: z.object({
      endpoints: z
        .array(
          z.object({
            name: z.string(),
            url: z.string(),
            Metrics: z.object({
              Pending: z.number(),
              Events: z.number(),
              Successes: z.number(),
              Failures: z.number(),
              Errors: z.number(),
              Statuses: z.record(z.string(), z.number()).nullish(),
            }),
          }),
        )
        .nullish(),
    }),
  }),
});

const configYaml = (o: {
  dir: string;
  port: number;
  debugPort: number;
  auth: boolean;
  opts: DockerRegistryOptions;
}) => {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(o.dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${o.port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    '  debug:',
    `    addr: 127.0.0.1:${o.debugPort}`,
  ];
  if (o.auth)
    lines.push('auth:', '  htpasswd:', '    realm: test-registry', `    path: ${join(o.dir, 'htpasswd')}`);
  const { notifyUrl, notifyToken } = o.opts;
  if (notifyUrl) {
    lines.push(
      'notifications:',
      '  events:',
      '    includereferences: true',
      '  endpoints:',
      '    - name: test-receiver',
      `      url: ${JSON.stringify(notifyUrl)}`,
      ...(notifyToken ? ['      headers:', `        Authorization: [${JSON.stringify(`Bearer ${notifyToken}`)}]`] : []),
      `      timeout: ${o.opts.notifyTimeout ?? '1s'}`,
      `      threshold: ${o.opts.notifyThreshold ?? 2}`,
      `      backoff: ${o.opts.notifyBackoff ?? '200ms'}`,
      // Blob pushes and deletes carry application/octet-stream: only manifest and tag events get through.
      '      ignoredmediatypes: [application/octet-stream]',
      '      ignore:',
      // 2.8.2 builds its filter only when a media type is ignored too (the line above), or drops this silently.
      '        actions: [pull]',
    );
  }
  return `${lines.join('\n')}\n`;
};

// Safety net for a test that dies before its afterAll: never leave a registry behind the test process.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts Debian's CNCF distribution 2.8 (`docker-registry serve`) on a free 127.0.0.1 port with its storage in a
 * temp dir, htpasswd auth (random password) and, with `notifyUrl`, one notification endpoint that retries fast.
 * Resolves once `/v2/` answers. Every caller must `stop()` it.
 */
export const startDockerRegistry = async (opts: DockerRegistryOptions = {}) => {
  const auth = opts.auth ?? true;
  const dir = await mkdtemp(join(tmpdir(), 'docker-registry-'));
  const username = 'ci';
  let password = randomBytes(12).toString('hex');
  const readerName = 'puller';
  const readerPassword = randomBytes(12).toString('hex');
  const config = join(dir, 'config.yml');
  const logFile = join(dir, 'registry.log');
  let child: ChildProcess | undefined;

  const authHeaders = (): Record<string, string> => (auth ? { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` } : {});

  const logTail = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const launch = async (url: string) => {
    const out = openSync(logFile, 'a');
    const proc = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', out, out] });
    closeSync(out);
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    child = proc;
    const started = Date.now();
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`docker-registry exited (${proc.exitCode ?? proc.signalCode}):\n${logTail()}`);
      try {
        const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200 || res.status === 401) return;
      } catch {
        // not listening yet
      }
      if (Date.now() - started > 15_000) throw new Error(`docker-registry did not answer in 15 s:\n${logTail()}`);
      await sleep(50);
    }
  };

  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  let port = 0;
  let debugPort = 0;
  try {
    if (auth) {
      await run('htpasswd', ['-Bbc', join(dir, 'htpasswd'), username, password]);
      await run('htpasswd', ['-Bb', join(dir, 'htpasswd'), readerName, readerPassword]);
    }
    // A port picked here can be taken before the registry binds it: try again with new ones.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      debugPort = await freePort();
      await writeFile(config, configYaml({ dir, port, debugPort, auth, opts }));
      try {
        await launch(`http://127.0.0.1:${port}`);
        break;
      } catch (error) {
        await kill();
        if (attempt >= 3 || !/address already in use/.test(logTail())) throw error;
      }
    }
  } catch (error) {
    await kill();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const skopeoGlobal = ['--insecure-policy'];

  return {
    /** `http://127.0.0.1:PORT` */
    url,
    /** `127.0.0.1:PORT`, as in image references. */
    host,
    /** Empty when started with `auth: false`. */
    username: auth ? username : '',
    /** The admin account's current password (see `changePassword`). */
    get password() {
      return auth ? password : '';
    },
    /**
     * A second htpasswd account, the one handed out as pull credentials. Read-only by convention only:
     * distribution's htpasswd auth has no per-user access, so it could push too. Empty with `auth: false`.
     */
    reader: { username: auth ? readerName : '', password: auth ? readerPassword : '' },
    /** The temp dir holding config, storage and log (removed by `stop`). */
    dir,

    /**
     * Copies `ociRef` (`oci:<dir>:<name>`) to `host/<repoAndTag>` (`repo:tag`, or `repo@sha256:…` to push by
     * digest) with skopeo. `all` copies every manifest of an image index (multi-arch). Resolves to the digest
     * of the manifest the registry stored.
     */
    async push(ociRef: string, repoAndTag: string, pushOpts: { all?: boolean } = {}): Promise<{ digest: string }> {
      const digestFile = join(dir, `digest-${randomBytes(6).toString('hex')}`);
      const args = [...skopeoGlobal, 'copy', '-q', '--dest-tls-verify=false', '--digestfile', digestFile];
      if (auth) args.push('--dest-creds', `${username}:${password}`);
      if (pushOpts.all) args.push('--all');
      args.push(ociRef, `docker://${host}/${repoAndTag}`);
      try {
        await run('skopeo', args, { timeout: 60_000 });
      } catch (error) {
        const stderr = error instanceof Error && 'stderr' in error ? String(error.stderr) : '';
        throw new Error(`skopeo copy ${ociRef} -> ${host}/${repoAndTag} failed: ${stderr || String(error)}`, { cause: error });
      }
      const digest = (await readFile(digestFile, 'utf8')).trim();
      await rm(digestFile, { force: true });
      return { digest };
    },

    /** `DELETE /v2/<repo>/manifests/<digest>`: the registry notifies the manifest delete and one delete per tag. */
    async deleteManifest(repo: string, digest: string): Promise<void> {
      const res = await fetch(`${url}/v2/${repo}/manifests/${digest}`, { method: 'DELETE', headers: authHeaders() });
      const text = await res.text();
      if (res.status !== 202) throw new Error(`DELETE ${repo}@${digest} answered ${res.status}: ${text}`);
    },

    /** Stops and starts the same registry (same port, storage and config): queued notifications are lost. */
    async restart(): Promise<void> {
      await kill();
      await launch(url);
    },

    /**
     * Gives the admin account a new password in htpasswd and restarts the registry, which reads the file only at
     * start: from then on the old password is refused. `push` and `deleteManifest` use the new one.
     */
    async changePassword(next = randomBytes(12).toString('hex')): Promise<string> {
      if (!auth) throw new Error('changePassword: the registry was started with auth: false');
      await run('htpasswd', ['-Bb', join(dir, 'htpasswd'), username, next]);
      password = next;
      await kill();
      await launch(url);
      return next;
    },

    /** Stops the registry and removes its temp dir. Safe to call twice. */
    async stop(): Promise<void> {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },

    /** The notification endpoints' queue metrics from the debug server's `/debug/vars`. */
    async debugVars(): Promise<{ endpoints: NotificationEndpointMetrics[]; raw: unknown }> {
      const res = await fetch(`http://127.0.0.1:${debugPort}/debug/vars`);
      const raw: unknown = await res.json();
      const vars = DebugVars.parse(raw);
      const endpoints = (vars.registry.notifications.endpoints ?? []).map((e) => ({
        name: e.name,
        url: e.url,
        pending: e.Metrics.Pending,
        events: e.Metrics.Events,
        successes: e.Metrics.Successes,
        failures: e.Metrics.Failures,
        errors: e.Metrics.Errors,
        statuses: e.Metrics.Statuses ?? {},
      }));
      return { endpoints, raw };
    },

    /** The last lines of the registry's log, for failure messages. */
    log: logTail,
  };
};

/** A registry `startDockerRegistry` started. */
export type DockerRegistry = Awaited<ReturnType<typeof startDockerRegistry>>;

/** The body that registers `registry` with the service, as an integration reached with its admin account. */
export const registrationOf = (registry: Pick<DockerRegistry, 'url' | 'username' | 'password'>) => ({
  name: 'dr',
  kind: 'docker-registry' as const,
  mode: 'integrated' as const,
  url: registry.url,
  credentials: { username: registry.username, password: registry.password },
});
