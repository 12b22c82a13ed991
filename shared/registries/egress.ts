import { promises as dns, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import * as z from 'zod';
import { RegistryCallError, sanitizeRegistryText } from './registry-error.ts';

/** A registry answer of 2xx is read up to this many bytes; more fails the call. */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;
/** Any other answer (an error, a redirect) is read up to this many bytes; more fails the call. */
export const MAX_ERROR_ANSWER_BYTES = 64 * 1024;
/** Most pages one list call follows: a registry that always links a next page cannot keep a call going. */
export const MAX_PAGES = 1000;
/** The longest registry URL `checkRegistryUrl` accepts. */
export const MAX_REGISTRY_URL_LENGTH = 2048;

/** One address a host name resolves to. */
export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Resolves a host name to every address it has (the system resolver by default; tests bring a table). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/**
 * Addresses no registry call may reach unless `REGISTRY_ALLOW_CIDRS` opens them: link-local and cloud metadata
 * endpoints (the credentials and the answers would go to the instance's identity), plus addresses that are no
 * host at all. Private ranges and loopback are not here: on-premises registries live there.
 */
const DEFAULT_DENIED: readonly { cidr: string; why: string }[] = [
  // On Linux, connecting to 0.0.0.0 reaches this host.
  { cidr: '0.0.0.0/8', why: 'unspecified' },
  { cidr: '169.254.0.0/16', why: 'link-local/metadata' },
  { cidr: '100.100.100.200/32', why: 'cloud metadata' },
  // Azure's WireServer (VM agent configuration, extension settings).
  { cidr: '168.63.129.16/32', why: 'cloud metadata' },
  { cidr: '224.0.0.0/4', why: 'multicast' },
  { cidr: '240.0.0.0/4', why: 'reserved' },
  { cidr: '::/128', why: 'unspecified' },
  { cidr: 'fe80::/10', why: 'link-local/metadata' },
  { cidr: 'fd00:ec2::254/128', why: 'cloud metadata' },
  { cidr: 'ff00::/8', why: 'multicast' },
];

// Loopback, and the unspecified addresses, which reach this host too.
const THIS_HOST: readonly string[] = ['127.0.0.0/8', '::1/128', '0.0.0.0/32', '::/128'];

const typeOf = (family: 4 | 6) => (family === 4 ? 'ipv4' : 'ipv6');

/** `a.b.c.d`, `a.b.c.d/n`, `x::y` or `x::y/n`; `undefined` when it is none of these. */
const parseCidr = (text: string): { address: string; prefix: number; family: 4 | 6 } | undefined => {
  const [address = '', prefix, extra] = text.trim().split('/');
  const family = isIP(address);
  if ((family !== 4 && family !== 6) || extra !== undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = prefix === undefined ? max : Number(prefix);
  return bits <= max ? { address, prefix: bits, family } : undefined;
};

const blockListOf = (cidrs: readonly string[]) => {
  const list = new BlockList();
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`"${text}" is not a CIDR`);
    list.addSubnet(cidr.address, cidr.prefix, typeOf(cidr.family));
  }
  return list;
};

/** The eight 16-bit groups of an IPv6 address (valid per `isIP`), a trailing dotted quad included. */
const ipv6Groups = (address: string): number[] => {
  let text = address;
  const quad = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(2).map(Number) as [number, number, number, number];
    text = `${quad[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16));
};

/** The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6 address. */
const embeddedIpv4 = (address: string): string | undefined => {
  const g = ipv6Groups(address);
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (!mapped && !nat64) return undefined;
  const [hi = 0, lo = 0] = g.slice(6);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
};

/** Lower-case, no brackets, no trailing dot: how host names are compared. */
const normalHost = (hostname: string) => hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');

/** `host` and `port` a URL connects to (the scheme's default port when it names none). */
export const endpointOf = (url: URL) => ({
  host: normalHost(url.hostname),
  port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
});

export type EgressPolicyOptions = {
  /** Added to the default denied ranges (they win over `allowCidrs`). */
  denyCidrs?: readonly string[];
  /** Holes in the default denied ranges (link-local, metadata, ...). Never opens the service itself. */
  allowCidrs?: readonly string[];
  /**
   * The service itself, always denied: `ports` it listens on (refused on loopback and every local interface
   * address) and `urls` it is reached at (its `PUBLIC_URL`: refused by host and port, as written).
   */
  self?: { ports?: readonly number[]; urls?: readonly string[] };
  /** Default: the system resolver (`dns.lookup`, every address). */
  resolve?: Resolver;
};

/**
 * Where registry calls may connect. Checked on the resolved address of every connection (a custom `lookup`),
 * so a name that later resolves elsewhere (DNS rebinding) is refused as well.
 */
export type EgressPolicy = {
  /** Why a connection to `address` (as resolved) on `port` is refused; `undefined` when it may go. */
  verdict(address: string, port: number): string | undefined;
  /** Why a URL naming `host` and `port` is refused before resolving (it is this service's own URL). */
  hostVerdict(host: string, port: number): string | undefined;
  resolve: Resolver;
  /** Connection pools of this policy only, so no socket opened under another policy is ever reused. */
  agents: { http: HttpAgent; https: HttpsAgent };
};

const systemResolve: Resolver = async (hostname) =>
  (await dns.lookup(hostname, { all: true, verbatim: true })).flatMap((a: LookupAddress) =>
    a.family === 4 || a.family === 6 ? [{ address: a.address, family: a.family }] : [],
  );

/** Builds a policy from explicit settings; `egressPolicyFromEnv` reads them from the environment. */
export const createEgressPolicy = (opts: EgressPolicyOptions = {}): EgressPolicy => {
  const denied = blockListOf(opts.denyCidrs ?? []);
  const allowed = blockListOf(opts.allowCidrs ?? []);
  const defaults = DEFAULT_DENIED.map((d) => ({ ...d, list: blockListOf([d.cidr]) }));
  const thisHost = blockListOf(THIS_HOST);
  const selfPorts = new Set(opts.self?.ports ?? []);
  const selfUrls = (opts.self?.urls ?? []).flatMap((u) => {
    try {
      return [endpointOf(new URL(u))];
    } catch {
      return [];
    }
  });
  // A PUBLIC_URL naming an address is refused by address too; one naming a host only by that name (its
  // addresses may be shared, e.g. a load balancer's).
  const selfAddresses = selfUrls.flatMap((s) => (isIP(s.host) ? [{ port: s.port, list: blockListOf([s.host]) }] : []));

  const isLocal = (address: string, type: 'ipv4' | 'ipv6') => {
    if (thisHost.check(address, type)) return true;
    // Read at each check: interfaces come and go.
    const local = new BlockList();
    for (const nic of Object.values(networkInterfaces()).flat()) {
      if (nic) local.addAddress(nic.address.replace(/%.*$/, ''), nic.family === 'IPv4' ? 'ipv4' : 'ipv6');
    }
    return local.check(address, type);
  };

  const verdict = (raw: string, port: number) => {
    const address = raw.replace(/%.*$/, '');
    const family = isIP(address);
    if (family !== 4 && family !== 6) return 'not an IP address';
    const forms: { address: string; type: 'ipv4' | 'ipv6' }[] = [{ address, type: typeOf(family) }];
    const v4 = family === 6 ? embeddedIpv4(address) : undefined;
    if (v4) forms.push({ address: v4, type: 'ipv4' });
    const isSelf = (f: (typeof forms)[number]) =>
      (selfPorts.has(port) && isLocal(f.address, f.type)) || selfAddresses.some((s) => s.port === port && s.list.check(f.address, f.type));
    if (forms.some(isSelf)) return 'this service itself';
    if (forms.some((f) => denied.check(f.address, f.type))) return 'denied by REGISTRY_DENY_CIDRS';
    for (const f of forms) {
      const hit = defaults.find((d) => d.list.check(f.address, f.type));
      if (hit && !allowed.check(f.address, f.type)) return hit.why;
    }
    return undefined;
  };

  const hostVerdict = (host: string, port: number) =>
    selfUrls.some((s) => s.host === normalHost(host) && s.port === port) ? 'this service itself (its PUBLIC_URL)' : undefined;

  // Idle sockets close after 4 s, before the usual server keep-alive timeouts (5 s in Node) can race a reuse.
  const agents = { http: new HttpAgent({ keepAlive: true, timeout: 4000 }), https: new HttpsAgent({ keepAlive: true, timeout: 4000 }) };
  return { verdict, hostVerdict, resolve: opts.resolve ?? systemResolve, agents };
};

const CidrList = z
  .string()
  .optional()
  .transform((s) => (s ?? '').split(',').map((c) => c.trim()).filter(Boolean))
  .refine((cidrs) => cidrs.every((c) => parseCidr(c) !== undefined), 'must be comma-separated CIDRs (10.0.0.0/8, fd00::/8) or addresses');

/** The registry egress settings of the environment. */
export const RegistryEgressEnv = z.object({
  /** Ranges registry calls may never reach, besides the default ones (link-local, metadata, ...). */
  REGISTRY_DENY_CIDRS: CidrList,
  /** Holes in the default denied ranges, e.g. a registry on a link-local address. */
  REGISTRY_ALLOW_CIDRS: CidrList,
});
export type RegistryEgressEnv = z.infer<typeof RegistryEgressEnv>;

/** The policy the environment sets (`REGISTRY_DENY_CIDRS`, `REGISTRY_ALLOW_CIDRS`), failing fast on a bad CIDR. */
export const egressPolicyFromEnv = (self?: EgressPolicyOptions['self'], env: NodeJS.ProcessEnv = process.env): EgressPolicy => {
  const parsed = RegistryEgressEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid configuration: ${z.prettifyError(parsed.error)}`);
  return createEgressPolicy({ denyCidrs: parsed.data.REGISTRY_DENY_CIDRS, allowCidrs: parsed.data.REGISTRY_ALLOW_CIDRS, ...(self ? { self } : {}) });
};

let fromEnv: EgressPolicy | undefined;
/** The environment's policy without knowledge of the service's own endpoints, read once. */
export const defaultEgressPolicy = (): EgressPolicy => (fromEnv ??= egressPolicyFromEnv());

const denial = (label: string, host: string, port: number, address: string, why: string) =>
  `${label} URL ${host}:${port} resolves to a denied address ${address} (${why})`;

/** Why `address` (the resolved form of `host`) is refused, as the message a caller shows; `undefined` when it may go. */
const denialOf = (policy: EgressPolicy, label: string, host: string, port: number, address: string) => {
  const why = policy.verdict(address, port);
  return why ? denial(label, host, port, address, why) : undefined;
};

/**
 * Why `url` may not be registered under `policy`, as a message for a 400; `undefined` when it may. Resolves the
 * host now (the same check runs again on every connection). A name that does not resolve is not refused here:
 * the registry may not be up yet, and every later connection is checked.
 */
export const checkRegistryUrl = async (url: string, policy: EgressPolicy = defaultEgressPolicy()): Promise<string | undefined> => {
  if (url.length > MAX_REGISTRY_URL_LENGTH) return `registry URL is longer than ${MAX_REGISTRY_URL_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'registry URL is not a URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'registry URL must be http or https';
  const { host, port } = endpointOf(parsed);
  const self = policy.hostVerdict(host, port);
  if (self) return `registry URL ${host}:${port} is ${self}`;
  if (isIP(host)) return denialOf(policy, 'registry', host, port, host);
  let addresses: ResolvedAddress[];
  try {
    addresses = await policy.resolve(host);
  } catch {
    return undefined;
  }
  for (const a of addresses) {
    const why = denialOf(policy, 'registry', host, port, a.address);
    if (why) return why;
  }
  return undefined;
};

/** The `lookup` of one connection: resolves, then refuses when any address the name has is denied. */
const lookupFor = (policy: EgressPolicy, label: string, host: string, port: number): LookupFunction => (hostname, options, callback) => {
  policy.resolve(hostname).then(
    (all) => {
      const denied = all.map((a) => denialOf(policy, label, host, port, a.address)).find(Boolean);
      if (denied) return callback(new RegistryCallError('refused', denied), '', 0);
      const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
      const wanted = family === 4 || family === 6 ? all.filter((a) => a.family === family) : all;
      const [first] = wanted;
      if (!first) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) callback(null, wanted);
      else callback(null, first.address, first.family);
    },
    (error: NodeJS.ErrnoException) => callback(error, '', 0),
  );
};

/** A registry's answer, read whole within the bounds. */
export type RegistryAnswer = { status: number; statusText: string; headers: Headers; text: string };

export type RegistryRequest = {
  /** Names the registry in messages: `Harbor`, `registry`. */
  label: string;
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange: connecting, the headers and the body. */
  timeoutMs: number;
  policy: EgressPolicy;
  /** Default `MAX_ANSWER_BYTES`. */
  maxBodyBytes?: number;
  /** Default `MAX_ERROR_ANSWER_BYTES`. */
  maxErrorBodyBytes?: number;
};

const describeNetworkError = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  // Trying IPv4 and IPv6 in turn fails with an AggregateError whose own message is empty.
  if (error instanceof AggregateError && error.errors[0] instanceof Error) return describeNetworkError(error.errors[0]);
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  return error.message || code || error.name;
};

const headersOf = (res: IncomingMessage) => {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    try {
      headers.append(res.rawHeaders[i] ?? '', res.rawHeaders[i + 1] ?? '');
    } catch {
      // A header value fetch's Headers refuses carries nothing this product reads.
    }
  }
  return headers;
};

/**
 * The one way registry calls leave this service: HTTP(S) through `policy` (checked at connect time, on every
 * resolved address), never following a redirect, with the whole exchange bounded by `timeoutMs` and the body by
 * `maxBodyBytes` (2xx) or `maxErrorBodyBytes` (anything else): past the cap the socket is destroyed and nothing
 * more is read. Fails only with `RegistryCallError`: `refused` for a denied address, `unavailable` otherwise.
 * Headers are bounded by Node's `maxHeaderSize` (16 KiB).
 */
export const requestRegistry = (req: RegistryRequest): Promise<RegistryAnswer> =>
  new Promise<RegistryAnswer>((resolve, reject) => {
    const { label, method, url, policy, timeoutMs } = req;
    const what = `${method} ${url.pathname}`;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(new RegistryCallError('refused', `${label} URL must be http or https`));
    const { host, port } = endpointOf(url);
    const self = policy.hostVerdict(host, port);
    if (self) return reject(new RegistryCallError('refused', `${label} URL ${host}:${port} is ${self}`));
    // Node connects to an IP literal without calling `lookup`: check it here.
    const literal = isIP(host) ? denialOf(policy, label, host, port, host) : undefined;
    if (literal) return reject(new RegistryCallError('refused', literal));

    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void) => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      outcome();
      return true;
    };
    const https = url.protocol === 'https:';
    const request = (https ? httpsRequest : httpRequest)(
      {
        method,
        host,
        port,
        path: `${url.pathname}${url.search}`,
        headers: { ...req.headers, ...(req.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(req.body)) }) },
        agent: https ? policy.agents.https : policy.agents.http,
        lookup: lookupFor(policy, label, host, port),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const cap = status >= 200 && status < 300 ? (req.maxBodyBytes ?? MAX_ANSWER_BYTES) : (req.maxErrorBodyBytes ?? MAX_ERROR_ANSWER_BYTES);
        const tooBig = () => fail(new RegistryCallError('unavailable', `${label} answered ${what} with more than ${cap} bytes`, status));
        // A HEAD answer's Content-Length is the size of what a GET would send: no body follows it.
        if (method !== 'HEAD' && Number(res.headers['content-length'] ?? 0) > cap) return tooBig();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > cap) tooBig();
          else chunks.push(chunk);
        });
        res.on('end', () =>
          finish(() =>
            resolve({ status, statusText: res.statusMessage ?? '', headers: headersOf(res), text: Buffer.concat(chunks).toString('utf8') }),
          ),
        );
        res.on('error', (error) => fail(unreachable(error)));
      },
    );
    const fail = (error: RegistryCallError) => finish(() => (request.destroy(), reject(error)));
    const unreachable = (error: unknown) =>
      error instanceof RegistryCallError
        ? error
        : new RegistryCallError('unavailable', `${label} unreachable: ${sanitizeRegistryText(describeNetworkError(error))}`, undefined, { cause: error });
    request.on('error', (error) => fail(unreachable(error)));
    timer = setTimeout(() => fail(new RegistryCallError('unavailable', `${label} did not answer ${what} within ${timeoutMs} ms`)), timeoutMs);
    request.end(req.body);
  });
