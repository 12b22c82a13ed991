import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { detectContainerRuntime, runtimeCandidates } from '../helpers/aws-endpoints.ts';
import { freePort } from '../helpers/dynamodb-local.ts';

describe('the AWS endpoint provider', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'aws-endpoints-'));
  const servers: (Server | HttpServer)[] = [];
  /** A machine with nothing on it: an empty home, no sockets, no DOCKER_HOST. */
  const bare = (env: NodeJS.ProcessEnv = {}) => {
    const dir = mkdtempSync(join(scratch, 'machine-'));
    mkdirSync(join(dir, 'home'));
    return { env, home: join(dir, 'home'), root: dir, uid: 4242, platform: 'linux' as const, dir };
  };
  const sockets = new Set<Socket>();
  const listen = <T extends Server | HttpServer>(server: T, path: string) =>
    new Promise<T>((ok) => {
      servers.push(server);
      server.on('connection', (socket: Socket) => sockets.add(socket));
      server.listen(path, () => ok(server));
    });

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('announced in one line which endpoints this run uses, and they answer', async () => {
    const endpoints = inject('awsEndpoints');
    expect(endpoints.announcement.split('\n')).toHaveLength(1);
    if (endpoints.kind === 'dynamodb-local') {
      expect(endpoints.announcement).toMatch(/^\[aws-endpoints\] no container runtime \(.+\): integration tests use DynamoDB Local, not LocalStack$/);
      expect(endpoints.detectionMs).toBeLessThan(100);
    } else {
      expect(endpoints.announcement).toMatch(/LocalStack/);
      expect([endpoints.eventbridge, endpoints.sqs, endpoints.secretsmanager]).toEqual([endpoints.dynamodb, endpoints.dynamodb, endpoints.dynamodb]);
    }
    expect(inject('dynamoEndpoint')).toBe(endpoints.dynamodb);
    const client = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: endpoints.region, credentials: endpoints.credentials });
    await expect(client.send(new ListTablesCommand({}))).resolves.toHaveProperty('TableNames');
    client.destroy();
  });

  it('decides there is no container runtime within 100 ms when nothing is there', async () => {
    const machine = bare();
    expect(runtimeCandidates(machine)).toEqual([]);
    const started = performance.now();
    const probe = await detectContainerRuntime(machine);
    expect(performance.now() - started).toBeLessThan(100);
    expect(probe).toEqual({ found: false, reason: 'no Docker socket, DOCKER_HOST or ~/.testcontainers.properties' });
  });

  it('finds a Docker engine on a socket the way testcontainers looks for one, by asking it /_ping', async () => {
    const machine = bare();
    const runDir = join(machine.dir, 'xdg');
    mkdirSync(runDir);
    await listen(
      createHttpServer((req, res) => res.writeHead(req.url === '/_ping' ? 200 : 404).end('OK')),
      join(runDir, 'docker.sock'),
    );
    const probe = await detectContainerRuntime({ ...machine, env: { XDG_RUNTIME_DIR: runDir } });
    expect(probe).toEqual({ found: true, via: join(runDir, 'docker.sock') });
  });

  it('never hangs on a socket that accepts and stays silent, or on a DOCKER_HOST nobody listens on', async () => {
    const machine = bare();
    const silent = join(machine.dir, 'var', 'run');
    mkdirSync(silent, { recursive: true });
    await listen(createServer(() => {}), join(silent, 'docker.sock'));
    let started = performance.now();
    const hung = await detectContainerRuntime({ ...machine, pingTimeoutMs: 150 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(hung).toMatchObject({ found: false, reason: expect.stringMatching(/docker\.sock: no answer within 150 ms/) });

    const port = await freePort();
    started = performance.now();
    const refused = await detectContainerRuntime({ ...bare({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }), pingTimeoutMs: 150 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(refused).toMatchObject({ found: false, reason: expect.stringMatching(/^DOCKER_HOST: .*ECONNREFUSED/) });
  });

  it('reads DOCKER_HOST and ~/.testcontainers.properties before the usual sockets, and can be told to use DynamoDB Local', async () => {
    const machine = bare({ DOCKER_HOST: 'unix:///nowhere/docker.sock' });
    writeFileSync(join(machine.home, '.testcontainers.properties'), 'docker.host=tcp://10.0.0.7:2376\n');
    expect(runtimeCandidates(machine)).toEqual([
      { via: 'DOCKER_HOST', socketPath: '/nowhere/docker.sock' },
      { via: 'docker.host in ~/.testcontainers.properties', host: '10.0.0.7', port: 2376 },
    ]);
    expect(await detectContainerRuntime({ ...machine, env: { ...machine.env, AWS_TEST_ENDPOINTS: 'dynamodb-local' } })).toEqual({
      found: false,
      reason: 'AWS_TEST_ENDPOINTS=dynamodb-local',
    });
  });
});
