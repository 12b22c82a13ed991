import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { startDynamoDbLocal } from './dynamodb-local.ts';

/**
 * The one provider of AWS endpoints for the integration tests: LocalStack (DynamoDB, EventBridge, SQS,
 * Secrets Manager) when a container runtime answers, DynamoDB Local otherwise. Plain data, so vitest can
 * hand it to every test file (`inject('awsEndpoints')`).
 */
export type AwsEndpoints =
  | {
      kind: 'localstack';
      region: string;
      credentials: { accessKeyId: string; secretAccessKey: string };
      dynamodb: string;
      eventbridge: string;
      sqs: string;
      secretsmanager: string;
      announcement: string;
    }
  | {
      kind: 'dynamodb-local';
      region: string;
      credentials: { accessKeyId: string; secretAccessKey: string };
      dynamodb: string;
      announcement: string;
      /** How long it took to decide there is no container runtime. */
      detectionMs: number;
    };

/** The last LocalStack image that starts without an account (later `latest` images need LOCALSTACK_AUTH_TOKEN). */
export const LOCALSTACK_IMAGE = 'localstack/localstack:4.14.0';

type Candidate = { via: string; socketPath: string } | { via: string; host: string; port: number };
export type RuntimeProbe = { found: true; via: string } | { found: false; reason: string };

export type ProbeOptions = {
  env?: NodeJS.ProcessEnv;
  home?: string;
  uid?: number;
  platform?: NodeJS.Platform;
  /** Where the system sockets (/var/run, /run/user) are looked up; tests point it at a scratch directory. */
  root?: string;
  /** How long a present socket may take to answer `/_ping` before it counts as no runtime. */
  pingTimeoutMs?: number;
};

const readProperties = (file: string): Record<string, string> => {
  if (!existsSync(file)) return {};
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => /^\s*([\w.]+)\s*[=:]\s*(.*?)\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] ?? '', m[2] ?? '']);
  return Object.fromEntries(entries);
};

const fromUrl = (via: string, url: string): Candidate | undefined => {
  try {
    const u = new URL(url);
    if (u.protocol === 'unix:') return { via, socketPath: u.pathname };
    if (u.protocol === 'npipe:') return { via, socketPath: url.replace(/^npipe:\/\//, '').replaceAll('/', '\\') };
    return { via, host: u.hostname, port: Number(u.port || 2375) };
  } catch {
    return undefined;
  }
};

/** Where testcontainers would look, in its order: tc.host, DOCKER_HOST / docker.host, the usual sockets. */
export const runtimeCandidates = (opts: ProbeOptions = {}): Candidate[] => {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const platform = opts.platform ?? process.platform;
  const properties = readProperties(join(home, '.testcontainers.properties'));
  const configured = [
    properties['tc.host'] && fromUrl('tc.host in ~/.testcontainers.properties', properties['tc.host']),
    env.DOCKER_HOST && fromUrl('DOCKER_HOST', env.DOCKER_HOST),
    properties['docker.host'] && fromUrl('docker.host in ~/.testcontainers.properties', properties['docker.host']),
  ].filter((c): c is Candidate => Boolean(c));
  if (platform === 'win32') return [...configured, { via: 'Docker Desktop named pipe', socketPath: '\\\\.\\pipe\\docker_engine' }];
  const root = opts.root ?? '/';
  const sockets = [
    join(root, 'var', 'run', 'docker.sock'),
    env.XDG_RUNTIME_DIR && join(env.XDG_RUNTIME_DIR, 'docker.sock'),
    join(home, '.docker', 'run', 'docker.sock'),
    join(home, '.docker', 'desktop', 'docker.sock'),
    join(root, 'run', 'user', String(opts.uid ?? userInfo().uid), 'docker.sock'),
  ].filter((p): p is string => Boolean(p));
  return [...configured, ...sockets.filter((p) => existsSync(p)).map((socketPath) => ({ via: socketPath, socketPath }))];
};

const ping = (candidate: Candidate, timeoutMs: number) =>
  new Promise<string | undefined>((resolve) => {
    const fail = (why: string) => resolve(why);
    if ('host' in candidate) {
      // A TCP (possibly TLS) daemon: a connect is enough to know something listens.
      const socket = connect({ host: candidate.host, port: candidate.port });
      socket.setTimeout(timeoutMs, () => (socket.destroy(), fail(`no answer within ${timeoutMs} ms`)));
      socket.once('connect', () => (socket.destroy(), resolve(undefined)));
      socket.once('error', (e) => fail(e.message));
      return;
    }
    const req = request({ socketPath: candidate.socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `/_ping answered ${res.statusCode}`);
    });
    req.once('timeout', () => (req.destroy(), fail(`no answer within ${timeoutMs} ms`)));
    req.once('error', (e) => fail(e.message));
    req.end();
  });

/**
 * Is there a container runtime? Without any candidate this answers at once (file checks only); a candidate
 * that does not answer its ping within the timeout counts as none, so this never hangs.
 */
export const detectContainerRuntime = async (opts: ProbeOptions = {}): Promise<RuntimeProbe> => {
  const env = opts.env ?? process.env;
  if (env.AWS_TEST_ENDPOINTS === 'dynamodb-local') return { found: false, reason: 'AWS_TEST_ENDPOINTS=dynamodb-local' };
  const candidates = runtimeCandidates(opts);
  if (candidates.length === 0) return { found: false, reason: 'no Docker socket, DOCKER_HOST or ~/.testcontainers.properties' };
  const failures: string[] = [];
  for (const candidate of candidates) {
    const failure = await ping(candidate, opts.pingTimeoutMs ?? 2000);
    if (!failure) return { found: true, via: candidate.via };
    failures.push(`${candidate.via}: ${failure}`);
  }
  return { found: false, reason: failures.join('; ') };
};

const withDeadline = <T>(work: Promise<T>, ms: number, what: string) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s; AWS_TEST_ENDPOINTS=dynamodb-local forces the fallback`)), ms);
    work.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });

/**
 * Starts what the integration tests talk to and says in one line which it is. `AWS_TEST_ENDPOINTS`:
 * `auto` (default), `localstack` (fail without a runtime) or `dynamodb-local`.
 */
export const startAwsEndpoints = async (log: (line: string) => void = (line) => console.log(line)) => {
  const mode = process.env.AWS_TEST_ENDPOINTS ?? 'auto';
  if (!['auto', 'localstack', 'dynamodb-local'].includes(mode)) throw new Error(`AWS_TEST_ENDPOINTS=${mode}: use auto, localstack or dynamodb-local`);
  const started = performance.now();
  const probe = await detectContainerRuntime();

  if (!probe.found) {
    const detectionMs = performance.now() - started;
    if (mode === 'localstack') throw new Error(`AWS_TEST_ENDPOINTS=localstack but no container runtime: ${probe.reason}`);
    const announcement = `[aws-endpoints] no container runtime (${probe.reason}; decided in ${detectionMs.toFixed(1)} ms): integration tests use DynamoDB Local, not LocalStack`;
    log(announcement);
    const ddb = await startDynamoDbLocal();
    const endpoints: AwsEndpoints = {
      kind: 'dynamodb-local',
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      dynamodb: ddb.endpoint,
      announcement,
      detectionMs,
    };
    return { endpoints, stop: ddb.stop };
  }

  const image = process.env.LOCALSTACK_IMAGE ?? LOCALSTACK_IMAGE;
  const announcement = `[aws-endpoints] container runtime at ${probe.via}: integration tests use LocalStack (${image}: dynamodb, events, sqs, secretsmanager)`;
  log(announcement);
  // Imported only now: testcontainers costs hundreds of milliseconds to load, and only LocalStack needs it.
  const { LocalstackContainer } = await import('@testcontainers/localstack');
  const token = process.env.LOCALSTACK_AUTH_TOKEN;
  const container = await withDeadline(
    new LocalstackContainer(image)
      .withEnvironment({
        SERVICES: 'dynamodb,events,sqs,secretsmanager',
        // The existing suites use region "local" against DynamoDB Local.
        ALLOW_NONSTANDARD_REGIONS: '1',
        EAGER_SERVICE_LOADING: '1',
        ...(token ? { LOCALSTACK_AUTH_TOKEN: token } : {}),
      })
      .start(),
    Number(process.env.LOCALSTACK_START_TIMEOUT_MS ?? 300_000),
    'LocalStack did not start',
  );
  const url = container.getConnectionUri();
  const endpoints: AwsEndpoints = {
    kind: 'localstack',
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    dynamodb: url,
    eventbridge: url,
    sqs: url,
    secretsmanager: url,
    announcement,
  };
  return { endpoints, stop: async () => void (await container.stop()) };
};
