import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRuntime } from '../../shared/local/runtime.ts';
import { createDistributionClient } from '../../shared/registries/distribution-client.ts';
import {
  checkRegistryUrl,
  createEgressPolicy,
  egressPolicyFromEnv,
  MAX_ANSWER_BYTES,
  MAX_ERROR_ANSWER_BYTES,
  type EgressPolicyOptions,
  type Resolver,
} from '../../shared/registries/egress.ts';
import { createHarborClient } from '../../shared/registries/harbor-client.ts';
import { createHttpRegistryApi } from '../../shared/registries/registry-api.ts';
import { sanitizeRegistryText } from '../../shared/registries/registry-error.ts';
import { failureOf } from '../helpers/failures.ts';


/** Control characters (C0, DEL, C1), bidi overrides and isolates, and markup. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069<>]/u;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
/** A registry on 127.0.0.1 that answers as `handler` says and counts what reaches it. */
const serve = async (handler: Handler = (_req, res) => res.end('[]')) => {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { url: `http://127.0.0.1:${address.port}`, port: address.port, hits };
};
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A hosts file: names resolve to exactly these addresses, anything else does not resolve. */
const hosts =
  (table: Record<string, string[] | (() => string[])>): Resolver =>
  async (name) => {
    const entry = table[name];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return (typeof entry === 'function' ? entry() : entry).map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
  };

const policyWith = (opts: EgressPolicyOptions) => createEgressPolicy(opts);

describe('the registry URL policy, on the resolved address of every connection', () => {
  const denied: [string, string[]][] = [
    ['cloud metadata', ['169.254.169.254']],
    ['ECS task metadata', ['169.254.170.2']],
    ['Alibaba metadata', ['100.100.100.200']],
    ['Azure WireServer', ['168.63.129.16']],
    ['IPv6 link-local', ['fe80::1']],
    ['AWS IPv6 metadata', ['fd00:ec2::254']],
    ['IPv4-mapped metadata', ['::ffff:169.254.169.254']],
    ['IPv4-mapped metadata, hex form', ['::ffff:a9fe:a9fe']],
    ['NAT64 metadata', ['64:ff9b::169.254.169.254']],
    // On Linux both reach this host: they would hit the registry below if connected to.
    ['the unspecified IPv4 address', ['0.0.0.0']],
    ['the unspecified IPv6 address', ['::']],
    ['one good address and one metadata address', ['127.0.0.1', '169.254.169.254']],
  ];

  it.each(denied)('refuses a host name that resolves to %s, without connecting', async (_what, addresses) => {
    const registry = await serve();
    const policy = policyWith({ resolve: hosts({ 'evil.test': addresses }) });
    const url = `http://evil.test:${registry.port}`;
    for (const call of [
      createHarborClient({ url, policy, timeoutMs: 1000 }).listProjects(),
      createDistributionClient({ url, policy, timeoutMs: 1000 }).catalog(),
    ]) {
      const error = await failureOf(call);
      expect(error.kind).toBe('refused');
      expect(error.message).toMatch(/resolves to a denied address/);
    }
    expect(registry.hits).toEqual([]);
    expect(await checkRegistryUrl(url, policy)).toMatch(/resolves to a denied address/);
  });

  it('names why: link-local/metadata', async () => {
    const policy = policyWith({ resolve: hosts({ 'meta.test': ['169.254.169.254'] }) });
    const error = await failureOf(createHarborClient({ url: 'http://meta.test', policy }).ping());
    expect(error.message).toBe('Harbor URL meta.test:80 resolves to a denied address 169.254.169.254 (link-local/metadata)');
  });

  it.each(['http://169.254.169.254', 'http://[fe80::1]', 'http://[::ffff:169.254.169.254]', 'http://[fd00:ec2::254]', 'http://0.0.0.0', 'http://[::]'])(
    'refuses the address literal %s, which Node connects to without a lookup',
    async (base) => {
      const registry = await serve();
      const url = `${base}:${registry.port}`;
      const policy = policyWith({});
      const error = await failureOf(createDistributionClient({ url, policy, timeoutMs: 1000 }).ping());
      expect(error.kind).toBe('refused');
      expect(registry.hits).toEqual([]);
      expect(await checkRegistryUrl(url, policy)).toMatch(/resolves to a denied address/);
    },
  );

  it('checks again at connect time: a name that resolved to an allowed address at registration and to metadata later is refused', async () => {
    const registry = await serve();
    let lookups = 0;
    const policy = policyWith({ resolve: hosts({ 'rebind.test': () => (++lookups === 1 ? ['127.0.0.1'] : ['169.254.169.254']) }) });
    const url = `http://rebind.test:${registry.port}`;
    expect(await checkRegistryUrl(url, policy)).toBeUndefined();
    const error = await failureOf(createHarborClient({ url, policy, timeoutMs: 1000 }).ping());
    expect(error).toMatchObject({ kind: 'refused' });
    expect(registry.hits).toEqual([]);
  });

  it('allows private and loopback registries by default (on-premises Harbors)', async () => {
    const registry = await serve();
    const policy = policyWith({ resolve: hosts({ 'harbor.corp.test': ['127.0.0.1'] }) });
    await expect(createHarborClient({ url: `http://harbor.corp.test:${registry.port}`, policy }).listProjects()).resolves.toEqual([]);
    await expect(createDistributionClient({ url: registry.url, policy }).ping()).resolves.toBeUndefined();
    expect(registry.hits).toHaveLength(2);
    for (const address of ['10.1.2.3', '172.16.0.9', '192.168.1.1', '127.0.0.1', '::1', 'fd12:3456::1']) expect(policy.verdict(address, 443)).toBeUndefined();
  });

  it('lets REGISTRY_ALLOW_CIDRS open a default-denied range and REGISTRY_DENY_CIDRS close any other', () => {
    const policy = egressPolicyFromEnv(undefined, { REGISTRY_ALLOW_CIDRS: '169.254.10.0/24, fe80::/10', REGISTRY_DENY_CIDRS: '10.0.0.0/8,2001:db8::/32,192.0.2.7' });
    expect(policy.verdict('169.254.10.5', 443)).toBeUndefined();
    expect(policy.verdict('fe80::1', 443)).toBeUndefined();
    expect(policy.verdict('169.254.169.254', 443)).toBe('link-local/metadata');
    expect(policy.verdict('::ffff:10.9.8.7', 443)).toBe('denied by REGISTRY_DENY_CIDRS');
    expect(policy.verdict('10.9.8.7', 443)).toBe('denied by REGISTRY_DENY_CIDRS');
    expect(policy.verdict('2001:db8::1', 443)).toBe('denied by REGISTRY_DENY_CIDRS');
    expect(policy.verdict('192.0.2.7', 443)).toBe('denied by REGISTRY_DENY_CIDRS');
    expect(policy.verdict('192.0.2.8', 443)).toBeUndefined();
    expect(() => egressPolicyFromEnv(undefined, { REGISTRY_DENY_CIDRS: '10.0.0.0/33' })).toThrow(/REGISTRY_DENY_CIDRS/);
    expect(() => egressPolicyFromEnv(undefined, { REGISTRY_ALLOW_CIDRS: 'harbor.example' })).toThrow(/REGISTRY_ALLOW_CIDRS/);
  });
});

describe('the service itself', () => {
  it('is refused on its own port on loopback and every local address, even when every range is allowed', async () => {
    const service = await serve();
    const other = await serve();
    const policy = policyWith({ self: { ports: [service.port] }, allowCidrs: ['0.0.0.0/0', '::/0'] });
    const local = Object.values(networkInterfaces())
      .flat()
      .flatMap((nic) => (nic ? [nic.address] : []));
    for (const address of ['127.0.0.1', '127.0.0.2', '::1', '0.0.0.0', '::', '::ffff:127.0.0.1', ...local])
      expect(policy.verdict(address, service.port), address).toBe('this service itself');
    for (const url of [service.url, `http://localhost:${service.port}`, `http://[::1]:${service.port}`, `http://[::ffff:127.0.0.1]:${service.port}`]) {
      const error = await failureOf(createDistributionClient({ url, policy, timeoutMs: 1000 }).ping());
      expect(error.kind, url).toBe('refused');
      expect(await checkRegistryUrl(url, policy), url).toMatch(/this service itself/);
    }
    expect(service.hits).toEqual([]);
    // Another port of the same host is a registry like any other.
    await expect(createDistributionClient({ url: other.url, policy }).ping()).resolves.toBeUndefined();
  });

  it('is refused by the host and port of its PUBLIC_URL, however the URL spells them', async () => {
    const policy = policyWith({ self: { urls: ['https://svc.example.test'] }, resolve: hosts({ 'svc.example.test': ['203.0.113.5'] }) });
    for (const url of ['https://svc.example.test', 'https://SVC.Example.test.:443/v2/', 'https://svc.example.test:443'])
      expect(await checkRegistryUrl(url, policy), url).toBe('registry URL svc.example.test:443 is this service itself (its PUBLIC_URL)');
    const error = await failureOf(createHarborClient({ url: 'https://svc.example.test', policy }).ping());
    expect(error).toMatchObject({ kind: 'refused', message: expect.stringContaining('this service itself') });
    // Another port of that host, or another name with the same address, is not the service.
    expect(await checkRegistryUrl('http://svc.example.test:8080', policy)).toBeUndefined();
  });

  it('is refused by the local runtime, which knows its port and public URL', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'egress-'));
    const runtime = await startRuntime({ port: 0, dataDir, inMemory: true, publicUrl: 'https://registry-svc.example.test' });
    try {
      const api = runtime.deps.registryApi;
      for (const url of [runtime.url, `http://localhost:${runtime.port}`, `http://[::1]:${runtime.port}`, 'https://registry-svc.example.test'])
        expect(await api.checkUrl(url), url).toMatch(/this service itself/);
      const probe = await api.probe({ kind: 'docker-registry', url: `http://localhost:${runtime.port}` });
      expect(probe).toEqual({ status: 'unknown', message: expect.stringContaining('this service itself') });
      const registry = await serve((_req, res) => res.end('{}'));
      expect(await api.probe({ kind: 'docker-registry', url: registry.url })).toEqual({ status: 'healthy' });
    } finally {
      await runtime.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('bounded answers', () => {
  const FORTY_MB = 40 * 1024 * 1024;

  /** Sends `FORTY_MB` as fast as the client reads it; `sent` counts what the socket took before it closed. */
  const flood = async (status: number, declareLength: boolean) => {
    const counter = { sent: 0, closed: Promise.resolve() };
    const registry = await serve((_req, res) => {
      counter.closed = new Promise((resolve) => res.on('close', () => resolve()));
      res.writeHead(status, { 'content-type': 'application/json', ...(declareLength ? { 'content-length': String(FORTY_MB) } : {}) });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (counter.sent < FORTY_MB && !res.destroyed) {
          counter.sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    return { registry, counter };
  };

  it.each([
    [200, MAX_ANSWER_BYTES],
    [500, MAX_ERROR_ANSWER_BYTES],
  ])('stops reading a %i answer of 40 MB past %i bytes and closes the connection', async (status, cap) => {
    const { registry, counter } = await flood(status, false);
    const error = await failureOf(createHarborClient({ url: registry.url, timeoutMs: 20_000 }).listProjects());
    expect(error).toMatchObject({ kind: 'unavailable', message: `Harbor answered GET /api/v2.0/projects with more than ${cap} bytes` });
    await counter.closed;
    // What the kernel's socket buffers held besides: far from the 40 MB a reader of the whole body takes.
    expect(counter.sent).toBeLessThan(cap + 16 * 1024 * 1024);
  });

  it('refuses an answer whose Content-Length is over the cap before reading its body', async () => {
    const { registry, counter } = await flood(200, true);
    const error = await failureOf(createDistributionClient({ url: registry.url, timeoutMs: 20_000 }).catalog());
    expect(error).toMatchObject({ kind: 'unavailable', message: `registry answered GET /v2/_catalog with more than ${MAX_ANSWER_BYTES} bytes` });
    await counter.closed;
    // Less than the cap itself: the body was never read up to it.
    expect(counter.sent).toBeLessThan(MAX_ANSWER_BYTES);
  });

  it('cuts an answer that drips slower than the time bound, headers and body together', async () => {
    // One byte every 50 ms, a valid empty list after 3 s: only a bound on the whole exchange fails it.
    const registry = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      let n = 0;
      const timer = setInterval(() => (++n >= 60 ? (clearInterval(timer), res.end(']')) : res.write(' ')), 50);
      res.on('close', () => clearInterval(timer));
    });
    const error = await failureOf(createHarborClient({ url: registry.url, timeoutMs: 300 }).listProjects());
    expect(error).toMatchObject({ kind: 'unavailable', message: 'Harbor did not answer GET /api/v2.0/projects within 300 ms' });
  });

  it('stops following next links after the page bound', async () => {
    // A registry that links a new page each time (for 50 pages): no `seen` set catches it.
    const registry = await serve((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const page = Number(url.searchParams.get('page') ?? url.searchParams.get('last')?.slice(1) ?? 1);
      const next = url.pathname.startsWith('/v2/') ? `/v2/_catalog?last=r${page + 1}&n=100` : `/api/v2.0/projects?page=${page + 1}&page_size=100`;
      if (page < 50) res.setHeader('link', `<${next}>; rel="next"`);
      const body = url.pathname.startsWith('/v2/') ? { repositories: [`r${page}`] } : [{ project_id: page, name: `p${page}` }];
      res.end(JSON.stringify(body));
    });
    const harbor = await failureOf(createHarborClient({ url: registry.url, maxPages: 5 }).listProjects());
    expect(harbor).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('more than 5 pages') });
    const distribution = await failureOf(createDistributionClient({ url: registry.url, maxPages: 5 }).catalog());
    expect(distribution).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('more than 5 pages') });
    expect(registry.hits).toHaveLength(10);
  });
});

describe('redirects', () => {
  it('are never followed: the credentials would go elsewhere', async () => {
    const elsewhere = await serve();
    const registry = await serve((req, res) => {
      res.writeHead(req.url?.startsWith('/v2/') ? 307 : 302, { location: `${elsewhere.url}${req.url ?? '/'}` });
      res.end();
    });
    const credentials = { username: 'u', password: 'p' };
    const harbor = await failureOf(createHarborClient({ url: registry.url, credentials }).createProject('x', false));
    expect(harbor).toMatchObject({ kind: 'unavailable', status: 302, message: expect.stringContaining(`Harbor redirected POST /api/v2.0/projects to ${elsewhere.url}`) });
    const distribution = await failureOf(createDistributionClient({ url: registry.url, credentials }).catalog());
    expect(distribution).toMatchObject({ kind: 'unavailable', status: 307, message: expect.stringContaining('register the final URL') });
    expect(elsewhere.hits).toEqual([]);
  });
});

describe('registry text in messages', () => {
  const hostile = '\u001b[31mdenied\u0000\u0007 <script>alert(1)</script>\r\n\u202eevil\u2066\u0085\u009b2J ' + 'x'.repeat(5000);

  it('sanitizeRegistryText strips controls, bidi overrides and markup, collapses whitespace and caps the length', () => {
    expect(sanitizeRegistryText('a\u0000b\u001fc\u007fd\u009fe\u202ef\u2067g')).toBe('abcdefg');
    expect(sanitizeRegistryText('<script>alert(1)</script>')).toBe('‹script›alert(1)‹/script›');
    expect(sanitizeRegistryText('  one\t\ttwo\r\n\u2028three  ')).toBe('one two three');
    const long = sanitizeRegistryText('é'.repeat(1000));
    expect(Array.from(long)).toHaveLength(300);
    expect(long.endsWith('…')).toBe(true);
    expect(sanitizeRegistryText(hostile)).not.toMatch(UNSAFE);
  });

  it('never carries control characters or markup from Harbor’s reasons, the status text or a Location header into a message', async () => {
    const registry = await serve((req, res) => {
      if (req.url?.includes('/projects')) {
        // Node writes header values as latin1: U+009B goes out as the single byte of a C1 control (CSI).
        res.writeHead(302, { location: `http://x.test/<script>\u009b2J${'y'.repeat(2000)}` });
        return void res.end();
      }
      res.writeHead(503, 'Service <b>Unavailable</b>', { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: hostile }] }));
    });
    const ping = await failureOf(createHarborClient({ url: registry.url }).ping());
    expect(ping.message).toMatch(/^Harbor unavailable: 503 DENIED: \[31mdenied ‹script›alert\(1\)‹\/script› evil/);
    const redirect = await failureOf(createHarborClient({ url: registry.url }).listProjects());
    expect(redirect.message).toContain('‹script›');
    const probe = await createHttpRegistryApi().probe({ kind: 'harbor', url: registry.url });
    for (const message of [ping.message, redirect.message, probe.message ?? '']) {
      expect(message).not.toMatch(UNSAFE);
      expect(message.length).toBeLessThan(400);
    }
    expect(probe.message).toContain('DENIED');
  });

  it('never carries them from a Docker Registry’s errors, its status text, or a catalog name', async () => {
    const registry = await serve((req, res) => {
      if (req.url?.startsWith('/v2/_catalog')) return void res.end(JSON.stringify({ repositories: [`bad\u001b<img src=x>`] }));
      res.writeHead(403, 'Forbidden <i>', { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: hostile }] }));
    });
    const client = createDistributionClient({ url: registry.url });
    const ping = await failureOf(client.ping());
    expect(ping).toMatchObject({ kind: 'refused', status: 403 });
    const [name = ''] = await client.catalog();
    const tags = await failureOf(client.tags(name));
    for (const message of [ping.message, tags.message]) expect(message).not.toMatch(UNSAFE);
    // An error without a JSON body reports the status text, sanitised too.
    const bare = await serve((_req, res) => {
      res.writeHead(400, 'Bad \u0080<b>Request</b>');
      res.end();
    });
    const error = await failureOf(createDistributionClient({ url: bare.url }).ping());
    expect(error.message).toBe('registry refused GET /v2/: 400 Bad ‹b›Request‹/b›');
  });
});
