import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import * as z from 'zod';
import { ROUTE_LIST, type Route } from '../../shared/topology.ts';
import { fixture } from '../helpers/fixtures.ts';

/**
 * Arbitraries of HTTP requests to the service: every route of `ROUTE_LIST`, with mutations of the real fixtures and of
 * valid admin bodies, odd values, odd encodings and odd credentials.
 *
 * Requests are symbolic: what depends on the running service (registry ids and hosts, webhook secrets, tokens, the
 * time) is a placeholder `«kind:arg»` that the harness resolves just before sending, so a request generated from a
 * seed means the same thing after a restart of the service:
 * - `«reg:R»`, `«host:R»`, `«secret:R»`: id, host and webhook secret of the harness's registry R (see `REGISTRY_ROLES`);
 * - `«psecret:R:P»`: the secret of Harbor project P's webhook policy for registry R (per-project secrets);
 * - `«wsecret:R:P»`: whichever of the two the service accepts for project P (the harness finds out at set-up);
 * - `«tok:T»`: a token (see `TOKEN_NAMES`), signed with the service's secret unless its name says otherwise;
 * - `«ctoken:C»`: the current admission token of the harness's cluster C (see `CLUSTER_ROLES`);
 * - `«url:fh»`: the fake Harbor's base URL;
 * - `«t-s:±N»`, `«t-ms:±N»`, `«t-iso:±N»`: now plus N seconds, as Unix seconds, milliseconds or ISO 8601. Inside a
 *   JSON string as the whole value, the seconds and milliseconds forms become a JSON number.
 */

const JsonValue = z.json();
export type Json = z.infer<typeof JsonValue>;

/** How a request authenticates: decides how closely the harness watches the store around it. */
export type AuthKind =
  /** the admin token */
  | 'admin'
  /** another token signed with the service's secret (reader, odd claims, odd encodings of the admin token) */
  | 'signed'
  /** a secret derived from a real webhook secret */
  | 'webhook'
  /** no credentials, or ones that must never be accepted (garbage, expired, `alg: none`, wrong secret) */
  | 'bad';

export type FuzzBody = { encoding: 'utf8' | 'base64'; data: string };

/** One generated request, still symbolic (see the module comment). */
export type FuzzRequest = {
  /** The route it aims at (`fn` and `METHOD path` of `ROUTE_LIST`); an odd path may miss it. */
  fn: string;
  route: string;
  method: Route['method'];
  path: string;
  headers: Record<string, string>;
  body?: FuzzBody;
  auth: AuthKind;
};

/** The registries the harness registers: core ones are never deleted by a generated request, sacrificial ones are. */
export const REGISTRY_ROLES = { core: ['dr', 'hb', 'hi'], sacrificial: ['sac1', 'sac2'] } as const;
/**
 * The clusters the harness registers, by name: core ones are never deleted nor have their token rotated by a valid
 * request (an odd path may still hit them: the harness picks up the new token and re-registers them), the
 * sacrificial one is.
 */
export const CLUSTER_ROLES = { core: ['c', 'prod'], sacrificial: ['sac'] } as const;
export type ClusterName = (typeof CLUSTER_ROLES)[keyof typeof CLUSTER_ROLES][number];
export const TOKEN_NAMES = [
  'admin',
  'reader',
  'reader-none',
  'roles-string',
  'roles-nested',
  'ws-string',
  'exp-huge',
  'iat-future',
  'nbf-future',
  'no-sub',
  'padded',
  'std-b64',
  'big-claims',
  'expired',
  'alg-none',
  'wrong-secret',
] as const;
export type TokenName = (typeof TOKEN_NAMES)[number];
/** Tokens that must be refused: a request carrying one may not change anything, whatever it is. */
const REFUSED_TOKENS: readonly TokenName[] = ['expired', 'alg-none', 'wrong-secret'];

const SPACES = ['space', 'library', 'team', 'shared', 'app', 'new1', 'new2'] as const;
const REPOSITORIES = ['app', 'api', 'web/ui'] as const;
const TAGS = ['v1', 'latest', '1.0', 'rc-2'] as const;
const DIGESTS = [
  'sha256:76525f02955aec223342400a080c73024c995c9db1ba2eabf7505cf3bdf3f1f0',
  'sha256:b26e9313062c343a0805c5ca3d41052bb846476bba77de7540d8f20eff759083',
  'sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4',
] as const;
const WORKSPACES = ['w1', 'w2', 'w3', 'ghost'] as const;

/**
 * Registry URLs a generated body may carry: loopback with closed ports (1–9; the harness's own registries use 1, 2, 3
 * and 9), the local fake Harbor, or invalid. The harness also rewrites any other http(s) URL a mutation made.
 */
export const LOOPBACK_URLS = [
  '«url:fh»',
  'http://127.0.0.1:9',
  'http://127.0.0.1:4/',
  'https://127.0.0.1:5',
  'http://[::1]:6',
  'http://127.0.0.1:7/a/b?c=d#e',
  'HTTP://127.0.0.1:8',
  ' http://127.0.0.1:4 ',
  'http://user:pw@127.0.0.1:5',
] as const;
const INVALID_URLS = [
  'ftp://127.0.0.1:9',
  'not a url',
  '',
  'http://',
  'http://127.0.0.1:99999',
  'javascript:alert(1)',
  'file:///etc/passwd',
  `http://127.0.0.1:9/${'a'.repeat(450_000)}`,
  '//127.0.0.1:9',
  'http:127.0.0.1:9',
  'data:text/plain,x',
  'http://[::1',
  'http://127.0.0.1:9\u0000x',
] as const;

const LONG = 'a'.repeat(100_000);
/** Strings that have broken services before: types in disguise, control and invisible characters, lone surrogates, key syntax. */
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  'NaN',
  'Infinity',
  '-1',
  '1e300',
  '1e309',
  '0x1f',
  'null',
  'true',
  'undefined',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202egnp.exe',
  '😀',
  'e\u0301',
  '\ufeff',
  '\u2028\u2029',
  '\r\n',
  LONG,
  '😀'.repeat(20_000),
  'A'.repeat(256),
  'a'.repeat(64),
  '%',
  '%ZZ',
  '%C0',
  '%00',
  '%252F',
  '../../etc/passwd',
  '/',
  '#',
  '?',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '${jndi:ldap://127.0.0.1:9/a}',
  '__proto__',
  'constructor',
  'REGISTRY#x',
  'SPACE#reg-000000000000#x',
  'AUDIENCE#public',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00.000Z',
  '1999-12-31T23:59:59Z',
  '2026-13-45T99:99:99Z',
  'sha256:',
  'sha256:zz',
  'bad tag',
  'UPPER',
  'a..b',
  '-a',
  'a/b',
  'a//b',
];
/** Huge, negative and fractional numbers; event times in ms where seconds are expected, year 9999, before 2000. */
export const ODD_NUMBERS: readonly number[] = [
  1e300, -1e300, -1, 0, 1.5, 8.7e12, 8_700_000_000_000, 1e13, 253_402_300_799, 253_402_300_800_000, 946_684_799, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 5e-324, 4_294_967_296,
];

const nest = (depth: number, leaf: Json): Json => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

/** A value of the wrong kind, size or content for wherever it is put. */
export const oddValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 3, arbitrary: fc.constantFrom(...ODD_NUMBERS) },
  { weight: 2, arbitrary: fc.constantFrom<Json>(null, true, false, [], {}, [1, 'a'], { a: { b: {} } }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(50, 2000).map((d) => nest(d, 'x')) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JsonValue.parse(v)) },
);

type JsonPath = (string | number)[];
const isObject = (v: Json | undefined): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where a mutation may strike: at most 400 places, none deeper than 12 (odd values nest thousands deep). */
const pathsOf = (value: Json, at: JsonPath = [], out: JsonPath[] = []): JsonPath[] => {
  if (out.length >= 400 || at.length > 12) return out;
  out.push(at);
  if (Array.isArray(value)) value.slice(0, 50).forEach((v, i) => pathsOf(v, [...at, i], out));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) pathsOf(v, [...at, k], out);
  return out;
};
const valueAt = (value: Json, path: JsonPath): Json | undefined => {
  let v: Json | undefined = value;
  for (const step of path) v = Array.isArray(v) && typeof step === 'number' ? v[step] : isObject(v) && typeof step === 'string' ? v[step] : undefined;
  return v;
};
/** A copy of `value` with `f` applied at `path`; `f` returning undefined removes the item. */
const updateAt = (value: Json, path: JsonPath, f: (old: Json) => Json | undefined): Json | undefined => {
  const [head, ...rest] = path;
  if (head === undefined) return f(value);
  if (Array.isArray(value) && typeof head === 'number') {
    const copy = [...value];
    const next = updateAt(value[head] ?? null, rest, f);
    if (next === undefined) copy.splice(head, 1);
    else copy[head] = next;
    return copy;
  }
  if (isObject(value) && typeof head === 'string') {
    const copy: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(copy, k, { value: v, enumerable: true, writable: true, configurable: true });
    const next = updateAt(value[head] ?? null, rest, f);
    if (next === undefined) delete copy[head];
    else Object.defineProperty(copy, head, { value: next, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  return value;
};
const setAt = (value: Json, path: JsonPath, next: Json): Json => updateAt(value, path, () => next) ?? null;

/** Another type for the same content: a number as a string and back, a value wrapped in an array. */
const retype = (v: Json): Json => {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return Number(v) || v.length;
  if (typeof v === 'boolean') return v ? 'true' : 0;
  if (Array.isArray(v)) return v[0] ?? {};
  return [v];
};

const EXTRA_KEYS = ['__proto__', 'constructor', 'extra', '', 'pk', 'sk', 'id', 'deleted', 'visibility', 'roles'] as const;

/** One mutation of `base`: an odd value somewhere, a removed or added key, another type; sometimes nothing. */
const mutateOnce = (base: Json): fc.Arbitrary<Json> => {
  const paths = pathsOf(base);
  const inner = paths.filter((p) => p.length > 0);
  const objects = paths.filter((p) => isObject(valueAt(base, p)));
  const ops: fc.WeightedArbitrary<Json>[] = [
    { weight: 2, arbitrary: fc.constant(base) },
    { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...paths), oddValue).map(([p, v]) => setAt(base, p, v)) },
    { weight: 2, arbitrary: fc.constantFrom(...paths).map((p) => setAt(base, p, retype(valueAt(base, p) ?? null))) },
  ];
  if (inner.length) ops.push({ weight: 2, arbitrary: fc.constantFrom(...inner).map((p) => updateAt(base, p, () => undefined) ?? null) });
  if (objects.length)
    ops.push({
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...objects), fc.constantFrom(...EXTRA_KEYS), oddValue).map(([p, k, v]) => setAt(base, [...p, k], v)),
    });
  return fc.oneof(...ops);
};

/** `base` unchanged (a third of the time), or with one or two mutations. */
export const mutated = (base: Json): fc.Arbitrary<Json> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(base) }, { weight: 4, arbitrary: mutateOnce(base) }, { weight: 2, arbitrary: mutateOnce(base).chain(mutateOnce) });

const utf8 = (data: string): FuzzBody => ({ encoding: 'utf8', data });
const bytes = (data: Buffer): FuzzBody => ({ encoding: 'base64', data: data.toString('base64') });

const GARBAGE_BODIES = [
  '',
  ' ',
  'null',
  'true',
  '0',
  '-1',
  '1e309',
  '"str"',
  '[]',
  '{}',
  '[{}]',
  '{"a":',
  '{"a":1,}',
  "{'a':1}",
  'NaN',
  '\u0000',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  'a=1&b=2',
  '<xml/>',
  '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--b--',
] as const;

/** `value` as JSON, or truncated, behind a BOM, buried in deep nesting, in UTF-16, with invalid UTF-8, or garbage. */
export const serialized = (value: Json): fc.Arbitrary<FuzzBody> => {
  const text = JSON.stringify(value);
  return fc.oneof(
    { weight: 16, arbitrary: fc.constant(utf8(text)) },
    { weight: 1, arbitrary: fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => utf8(text.slice(0, n))) },
    { weight: 1, arbitrary: fc.constant(utf8(`\ufeff${text}`)) },
    { weight: 1, arbitrary: fc.constantFrom(100, 5000, 100_000).map((d) => utf8(`${'['.repeat(d)}${text}${']'.repeat(d)}`)) },
    { weight: 1, arbitrary: fc.constantFrom(100, 5000, 50_000).map((d) => utf8(`${'{"a":'.repeat(d)}${text}${'}'.repeat(d)}`)) },
    { weight: 2, arbitrary: fc.constantFrom(...GARBAGE_BODIES).map(utf8) },
    { weight: 1, arbitrary: fc.constant(bytes(Buffer.concat([Buffer.from(text.slice(0, 12)), Buffer.from([0xc0, 0xaf, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from(text.slice(12))]))) },
    { weight: 1, arbitrary: fc.constant(bytes(Buffer.from(text, 'utf16le'))) },
  );
};
/** Over the 1 MiB limit (rare: each costs a megabyte). */
const hugeBody = fc.constant(utf8(`{"a":"${'x'.repeat(1_100_000)}"}`));

/** Percent-encodes a segment byte by byte (lone surrogates as their WTF-8 bytes), leaving placeholders as they are. */
export const encodeSegment = (s: string) =>
  s
    .split(/(«[^»]*»)/)
    .map((part) => (part.startsWith('«') ? part : encodeText(part)))
    .join('');
const encodeText = (s: string) => {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i] ?? '';
    if (/[A-Za-z0-9\-._~]/.test(ch)) {
      out += ch;
      continue;
    }
    const next = s.charCodeAt(i + 1);
    let code = c;
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) code = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
    const units = code > 0xffff ? 2 : 1;
    const raw =
      code < 0x80
        ? [code]
        : code < 0x800
          ? [0xc0 | (code >> 6), 0x80 | (code & 63)]
          : code < 0x10000
            ? [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63)]
            : [0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63)];
    out += raw.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    i += units - 1;
  }
  return out;
};

/** Put into a path or query as they are: malformed, overlong, NUL, dot segments, double-encoded. */
export const RAW_ODD_SEGMENTS = [
  '%',
  '%ZZ',
  '%C0',
  '%C0%AF',
  '%00',
  '%2e%2e',
  '..',
  '.',
  '%2F',
  '%252F',
  '%25',
  '%E2%80%AE',
  '%ED%A0%80',
  '%F0%9F%98%80',
  '%FF',
  'a%',
  '%%',
  '%u0041',
  ';x',
  "'",
  '!$&()*+,=@',
  '%23',
  '%3F',
  '..%2F..%2F',
  '../x',
] as const;
const oddSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...RAW_ODD_SEGMENTS) },
  { weight: 2, arbitrary: fc.constantFrom(...ODD_STRINGS).map(encodeSegment) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map(encodeSegment) },
);
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

/**
 * What is odd about a request. One thing at a time, the rest valid, so that odd input reaches the checks behind
 * routing, authentication and parsing: a request odd everywhere is only ever refused at the door.
 */
type Focus = 'none' | 'body' | 'path' | 'query' | 'auth' | 'headers';
const focusArb = fc.constantFrom<Focus>('none', 'none', 'body', 'body', 'body', 'body', 'path', 'query', 'auth', 'headers');

const regRef = (role: string) => `«reg:${role}»`;
const unknownRegistryIds = fc.constantFrom('reg-000000000000', `reg-${'a'.repeat(61)}`, 'REG-AAAAAAAAAAAA', 'reg-', 'x');
/** Spaces that exist (or come and go) in each registry of the world, so that valid paths mostly find their space. */
const SPACES_OF: Record<string, readonly string[]> = { dr: ['space', 'library', 'new1'], hb: ['team', 'shared', 'library', 'new1'], hi: ['team'], sac1: ['space'], sac2: ['space'] };

const registryRoles = (route: Route): readonly string[] =>
  route.fn === 'delete-registry'
    ? REGISTRY_ROLES.sacrificial
    : route.fn === 'receive-harbor-webhook'
      ? ['hb', 'hb', 'hb', 'hb', 'hi']
      : route.fn === 'receive-distribution-webhook'
        ? ['dr', 'dr', 'dr', 'dr', 'sac1']
        : ['dr', 'hb', 'hb', 'hi'];
/** Namespaces are registered in `c` only (`prod` has none); deletes and rotations go to the sacrificial cluster. */
const clusterNames = (route: Route): readonly string[] =>
  route.fn === 'delete-cluster' || route.fn === 'rotate-admission-token'
    ? CLUSTER_ROLES.sacrificial
    : route.path.includes('/namespaces/')
      ? ['c', 'c', 'c', 'prod']
      : ['c', 'c', 'prod', 'sac'];

/** Valid values of each parameter; the space depends on the registry chosen. */
const knownParams = (route: Route, names: readonly string[]): fc.Arbitrary<Record<string, string>> =>
  fc.constantFrom(...registryRoles(route)).chain((role) => {
    const spaces = SPACES_OF[role] ?? ['space'];
    const known: Record<string, fc.Arbitrary<string>> = {
      registryId: fc.constant(regRef(role)),
      space: fc.constantFrom(...spaces),
      workspaceId: fc.constantFrom('w1', 'w1', 'w2', 'w3', 'ghost'),
      cluster: fc.constantFrom(...clusterNames(route)),
      namespace: fc.constantFrom('n1', 'n1', 'n2', 'n3', 'mine'),
      asset: fc.constantFrom('app.js', 'app.css', 'main.js'),
    };
    return fc.record(Object.fromEntries(names.map((n) => [n, known[n] ?? fc.constant('x')])));
  });
/** A parameter that is unknown but well formed, or odd. */
const oddParam = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 1, arbitrary: name === 'registryId' ? unknownRegistryIds : label.map(encodeSegment) },
    { weight: 3, arbitrary: oddSegment },
  );

const fill = (template: string, params: Record<string, string>) => template.replace(/\{(\w+)\}/g, (_m, n: string) => params[n] ?? '');
const bend = (path: string, how: number) =>
  [`${path}/`, `/${path}`, path.replace(/\//g, '/./'), `${path}/..`, path.replace(/\/([^/]*)$/, '%2F$1'), path.toUpperCase(), `${path};x=1`, path.replace(/\//g, '//')][how] ?? path;

/** The path of `route`: valid, or (odd) with one parameter odd or the whole path bent so that it may miss the route. */
const pathArb = (route: Route, odd: boolean): fc.Arbitrary<string> => {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  const valid = knownParams(route, names);
  if (!odd) return valid.map((p) => fill(route.path, p));
  const oneOdd = names.length
    ? fc
        .tuple(valid, fc.constantFrom(...names))
        .chain(([p, name]) => oddParam(name).map((v) => ({ ...p, [name]: v })))
        .map((p) => fill(route.path, p))
    : fc.constant(route.path);
  return fc.oneof({ weight: 3, arbitrary: oneOdd }, { weight: 1, arbitrary: fc.tuple(valid, fc.nat(7)).map(([p, how]) => bend(fill(route.path, p), how)) });
};

const IMAGES = ['«host:dr»/space/app', '«host:hb»/team/api', '«host:hb»/library/app', '«host:hb»/team/api:v1', `«host:hb»/library/app@${DIGESTS[0]}`, '«host:dr»/space/app:1.0'];
const ODD_IMAGES = ['«host:dr»/alpine', '«host:hi»/x/y', 'nohost/space/app', '«host:hb»/team/api@sha256:zz', '«host:hb»/team/api:bad tag', '«host:hb»'];
const cursorOf = (after: string) => Buffer.from(JSON.stringify({ v: 1, after })).toString('base64url');
const CURSORS = [cursorOf('«host:dr»/space/app'), cursorOf(''), cursorOf('\u0000'), Buffer.from('{"v":2}').toString('base64url'), 'garbage', '=', 'A'.repeat(3000)];

type Pair = [string, string];
const pairs = (spec: Record<string, readonly string[]>, odd: boolean): fc.Arbitrary<Pair[]> =>
  fc
    .record(
      Object.fromEntries(
        Object.entries(spec).map(([k, values]) => [
          k,
          (odd
            ? fc.oneof(
                { weight: 3, arbitrary: fc.constantFrom(...values).map(encodeSegment) },
                { weight: 2, arbitrary: fc.constantFrom(...RAW_ODD_SEGMENTS) },
                { weight: 2, arbitrary: fc.constantFrom(...ODD_STRINGS).map((s) => encodeSegment(s.slice(0, 5000))) },
              )
            : fc.constantFrom(...values).map(encodeSegment)
          ).map((v): Pair => [k, v]),
        ]),
      ),
      { requiredKeys: [] },
    )
    .map((r) => Object.values(r).filter((p): p is Pair => p !== undefined));
const QUERIES: Record<string, { valid: Record<string, readonly string[]>; odd: Record<string, readonly string[]> }> = {
  'list-images': {
    valid: { q: ['pay', 'app', 'space'], limit: ['1', '50', '100'] },
    odd: { q: ['', '«host:dr»', 'x'.repeat(300)], limit: ['0', '101', '-1', '1e300', 'NaN', '1.5', ' 5', '0x10', ''], cursor: CURSORS },
  },
  'list-tags': { valid: { image: IMAGES }, odd: { image: [...IMAGES, ...ODD_IMAGES] } },
  'explain-image': { valid: { image: IMAGES }, odd: { image: [...IMAGES, ...ODD_IMAGES] } },
  'get-ui': { valid: {}, odd: { v: ['abc', 'x'.repeat(65)] } },
  'get-admission-config': { valid: { failurePolicy: ['Fail', 'Ignore'] }, odd: { failurePolicy: ['fail', 'IGNORE', '', 'Fail ', 'Fail,Ignore', 'None'] } },
  'list-admission-decisions': {
    valid: { since: ['«t-iso:-3600»', '«t-iso:-2592000»', '2000-01-01T00:00:00Z', '2026-01-01T00:00:00+01:00'], limit: ['1', '100', '500'] },
    odd: {
      since: ['not a time', '2026-02-30T00:00:00Z', '«t-iso:3600»', '+275760-09-13T00:00:00.000Z', '9999-12-31T23:59:59Z', '1737446601', '', '2026-01-01', '«t-ms:0»'],
      limit: ['0', '501', '-1', '1e300', 'NaN', '1.5', ' 5', '0x10', ''],
    },
  },
};
/** Queries put on the wire as they are: a `+` that decodes to a space, repeated keys. */
const RAW_QUERIES: Record<string, readonly string[]> = {
  'get-admission-config': ['?failurePolicy=Fail&failurePolicy=Ignore', '?failurePolicy[]=Fail', '?failurePolicy=%46ail'],
  'list-admission-decisions': ['?since=2026-01-01T00:00:00+01:00', '?limit=1&limit=500', '?since=«t-iso:0»&since=x', '?limit=%35%30%30'],
};
const extraPairs: fc.Arbitrary<Pair[]> = fc.array(
  fc.tuple(fc.constantFrom('x', 'limit', 'image', '__proto__', 'constructor', '%ZZ', 'a[]', ''), oddSegment).map((p): Pair => p),
  { minLength: 1, maxLength: 3 },
);
/** The query string: the route's own parameters, valid; or (odd) odd values, unknown keys, odd shapes. */
const queryArb = (route: Route, odd: boolean): fc.Arbitrary<string> => {
  const spec = QUERIES[route.fn];
  const own = (o: boolean) => (spec ? pairs(o ? spec.odd : spec.valid, o) : fc.constant<Pair[]>([]));
  const text = (ps: Pair[]) => (ps.length ? `?${ps.map(([k, v]) => `${k}=${v}`).join('&')}` : '');
  if (!odd)
    return route.fn === 'list-tags' || route.fn === 'explain-image' ? pairs({ image: spec?.valid.image ?? [] }, false).map(text).map((q) => q || '?image=x') : own(false).map(text);
  return fc.oneof(
    { weight: 4, arbitrary: own(true).map(text) },
    { weight: 2, arbitrary: fc.tuple(own(false), extraPairs).map(([a, b]) => text([...a, ...b])) },
    { weight: 1, arbitrary: fc.constantFrom('?', '?%', '?&&', '?a', '?=x', '?limit=1&limit=2', '?image=a&image=b', ...(RAW_QUERIES[route.fn] ?? [])) },
  );
};

const tok = (name: TokenName) => `Bearer «tok:${name}»`;
type Auth = { header?: string; kind: AuthKind };
/** The credentials of a route that is valid for it: the admin token, or a reader's for reader routes. */
const validAuth = (route: Route, path: string): Auth => {
  if (route.access === 'public') return { kind: 'bad' };
  if (route.access === 'reader' && path.includes('/namespaces/n1') && path.length % 3 === 0) return { header: tok('reader'), kind: 'signed' };
  return { header: tok('admin'), kind: 'admin' };
};
const oddTokenAuth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom<Auth>({ header: tok('reader'), kind: 'signed' }, { header: tok('reader-none'), kind: 'signed' }) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(...TOKEN_NAMES.filter((t) => !REFUSED_TOKENS.includes(t) && t !== 'admin'))
      .map((t): Auth => ({ header: tok(t), kind: 'signed' })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Auth>(
      { header: 'bearer «tok:admin»', kind: 'signed' },
      { header: 'Bearer  «tok:admin»', kind: 'signed' },
      { header: 'Bearer «tok:admin» x', kind: 'signed' },
      { header: '«tok:admin»', kind: 'signed' },
      { header: 'Bearer «tok:admin»=', kind: 'signed' },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Auth>(
      { kind: 'bad' },
      ...REFUSED_TOKENS.map((t): Auth => ({ header: tok(t), kind: 'bad' })),
      { header: 'Bearer garbage', kind: 'bad' },
      { header: 'Bearer a.b.c', kind: 'bad' },
      { header: 'Basic YWRtaW46SGFyYm9yMTIzNDU=', kind: 'bad' },
      { header: 'Bearer ', kind: 'bad' },
      { header: `Bearer ${'A'.repeat(12_000)}`, kind: 'bad' },
    ),
  },
);
/** A webhook's own credentials: the project's secret (Harbor) or the registry's (Docker Registry). */
const ownWebhookAuth = (registry: string, project: string, kind: 'harbor' | 'distribution'): Auth => ({
  header: kind === 'harbor' ? `Bearer «wsecret:${registry}:${project}»` : `Bearer «secret:${registry}»`,
  kind: 'webhook',
});
/** A webhook's other credentials: the registry's secret on Harbor, another project's or registry's, wrong ones. */
const oddWebhookAuth = (registry: string, kind: 'harbor' | 'distribution'): fc.Arbitrary<Auth> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom<Auth>(
        { header: `Bearer «secret:${registry}»`, kind: 'webhook' },
        { header: `Bearer «psecret:${registry}:library»`, kind: 'webhook' },
        { header: `Bearer «psecret:${registry}:team»`, kind: 'webhook' },
        { header: `Bearer «secret:${kind === 'harbor' ? 'dr' : 'hb'}»`, kind: 'webhook' },
        { header: `Bearer «psecret:hi:library»`, kind: 'webhook' },
        { header: `«secret:${registry}»`, kind: 'webhook' },
        { header: `Bearer «secret:${registry}» `, kind: 'webhook' },
        { header: tok('admin'), kind: 'signed' },
      ),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom<Auth>(
        { kind: 'bad' },
        { header: 'Bearer wrong', kind: 'bad' },
        { header: 'Bearer ', kind: 'bad' },
        { header: `Bearer ${'x'.repeat(600)}`, kind: 'bad' },
        { header: 'Bearer library:AAAA', kind: 'bad' },
        { header: 'Basic YWRtaW46SGFyYm9yMTIzNDU=', kind: 'bad' },
      ),
    },
  );

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=b',
  'application/cloudevents+json',
  'application/vnd.docker.distribution.events.v1+json',
  'application/octet-stream',
  'application/json; charset=utf-16',
  '',
  'application/xml',
] as const;
/** Headers: the usual content type; or (odd) another or none, chunked bodies, odd extras. */
const headersArb = (usual: string | undefined, odd: boolean): fc.Arbitrary<Record<string, string>> => {
  const plain: Record<string, string> = usual === undefined ? {} : { 'content-type': usual };
  if (!odd) return fc.constant(plain);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES).map((ct): Record<string, string> => ({ 'content-type': ct })) },
    { weight: 1, arbitrary: fc.constant<Record<string, string>>({}) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom<Record<string, string>>(
          { 'transfer-encoding': 'chunked' },
          { 'content-encoding': 'gzip' },
          { 'x-forwarded-for': '127.0.0.1, 10.0.0.1' },
          { accept: 'text/html' },
          { host: 'evil.invalid' },
          { 'x-is-resource-name': 'true' },
          { expect: '100-continue' },
          { 'x-http-method-override': 'DELETE' },
          { cookie: `a=${'b'.repeat(4000)}` },
        )
        .map((extra) => ({ ...plain, ...extra })),
    },
  );
};

const harborFixtures = readdirSync(join(import.meta.dirname, '..', 'fixtures', 'harbor'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JsonValue.parse(fixture(`harbor/${f}`)));
const distributionFixtures = readdirSync(join(import.meta.dirname, '..', 'fixtures', 'distribution'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JsonValue.parse(fixture(`distribution/${f}`)));
const PUSHES = harborFixtures.filter((f) => /PUSH_ARTIFACT|artifact\.pushed/.test(JSON.stringify(valueAt(f, ['type']) ?? '')));
const DELETES = harborFixtures.filter((f) => /DELETE_ARTIFACT|artifact\.deleted/.test(JSON.stringify(valueAt(f, ['type']) ?? '')));

/** Event times: now, a little before or after (within the skew), or (odd) far ahead, before 2000, in the wrong unit, not a time. */
const timeArb = (format: 's' | 'iso', odd: boolean): fc.Arbitrary<Json> => {
  const near = fc.constantFrom(0, 0, 0, -3600, -60, 30).map((o) => (format === 's' ? `«t-s:${o}»` : `«t-iso:${o}»`));
  if (!odd) return near;
  const far = fc.constantFrom(3600, 86_400 * 365).map((o) => (format === 's' ? `«t-s:${o}»` : `«t-iso:${o}»`));
  const odds =
    format === 'iso'
      ? fc.constantFrom<Json>('9999-12-31T23:59:59Z', '1999-01-01T00:00:00Z', 'not a date', '+275760-09-13T00:00:00.000Z', '', 1_737_446_601, '«t-ms:0»', '2026-02-30T00:00:00Z')
      : fc.constantFrom<Json>(8.7e12, 1e13, 1e300, -1, 0, 946_684_799, 253_402_300_799, 1_737_446_601.5, '1737446601', 'NaN', null, '«t-ms:0»');
  return fc.oneof(far, odds);
};

type Aim = { project: string; repo: string; tag: string; secondTag: string; digest: string; time: Json; two: boolean };
const aimArb = (format: 's' | 'iso', projects: readonly string[], odd: boolean): fc.Arbitrary<Aim> =>
  fc.record({
    project: fc.constantFrom(...projects),
    repo: fc.constantFrom(...REPOSITORIES),
    tag: fc.constantFrom(...TAGS),
    secondTag: odd ? fc.oneof(fc.constantFrom(...TAGS), fc.constantFrom('bad tag', 'x'.repeat(200), '')) : fc.constantFrom(...TAGS),
    digest: odd ? fc.oneof(fc.constantFrom(...DIGESTS), fc.constantFrom('notadigest', 'sha256:', 'md5:zz!')) : fc.constantFrom(...DIGESTS),
    time: timeArb(format, odd),
    two: fc.boolean(),
  });

/** Points a Harbor fixture at a project, repository, tag, digest and time of the harness's world. */
const aimHarbor = (raw: Json, aim: Aim): Json => {
  if (!isObject(raw)) return raw;
  const cloud = 'specversion' in raw;
  const dataKey = cloud ? 'data' : 'event_data';
  let v = setAt(raw, [cloud ? 'time' : 'occur_at'], aim.time);
  const data = valueAt(v, [dataKey]);
  if (isObject(data) && isObject(data.repository))
    v = setAt(v, [dataKey, 'repository'], { ...data.repository, namespace: aim.project, name: aim.repo, repo_full_name: `${aim.project}/${aim.repo}` });
  const resources = valueAt(v, [dataKey, 'resources']);
  if (Array.isArray(resources)) {
    const aimed = resources.map((r, i): Json => {
      if (!isObject(r)) return r;
      const tag = i === 0 ? aim.tag : aim.secondTag;
      return { ...r, ...('tag' in r ? { tag } : {}), ...('digest' in r ? { digest: aim.digest } : {}), resource_url: `«host:hb»/${aim.project}/${aim.repo}:${tag}` };
    });
    const first = aimed[0];
    v = setAt(v, [dataKey, 'resources'], aim.two && isObject(first) ? [...aimed, { ...first, tag: aim.secondTag }] : aimed);
  }
  return v;
};

const distributionEvent = (space: string, odd: boolean): fc.Arbitrary<Json> =>
  fc
    .tuple(
      fc.constantFrom(...distributionFixtures),
      odd
        ? fc.oneof(fc.constantFrom(...REPOSITORIES.map((r) => `${space}/${r}`)), fc.constantFrom('alpine', `${space}/x/y`, 'Bad/Name', '', `${space}/`))
        : fc.constantFrom(...REPOSITORIES.map((r) => `${space}/${r}`), 'alpine'),
      fc.constantFrom(...TAGS),
      fc.constantFrom(...DIGESTS),
      timeArb('iso', odd),
    )
    .map(([envelope, repository, tag, digest, timestamp]) => {
      const event = valueAt(envelope, ['events', 0]);
      if (!isObject(event) || !isObject(event.target)) return event ?? null;
      const target = { ...event.target, repository, ...('tag' in event.target ? { tag } : {}), ...('digest' in event.target ? { digest } : {}) };
      return { ...event, timestamp, target };
    });

type Payload = { project: string; body: Json; contentType: string };
/** A Harbor delivery from the fixtures, aimed at the world: mostly pushes and deletes (the others change nothing). */
const harborPayload = (odd: boolean): fc.Arbitrary<Payload> =>
  fc
    .oneof({ weight: 3, arbitrary: fc.constantFrom(...PUSHES) }, { weight: 1, arbitrary: fc.constantFrom(...DELETES) }, { weight: 1, arbitrary: fc.constantFrom(...harborFixtures) })
    .chain((raw) => {
      const cloud = isObject(raw) && 'specversion' in raw;
      return fc.tuple(fc.constant(raw), aimArb(cloud ? 'iso' : 's', ['library', 'team', 'shared', 'new1', 'new2'], odd), fc.constant(cloud));
    })
    .map(([raw, aim, cloud]) => ({ project: aim.project, body: aimHarbor(raw, aim), contentType: cloud ? 'application/cloudevents+json' : 'application/json' }));
/** A Docker Registry envelope of one to three events from the fixtures, aimed at the world. */
const distributionPayload = (odd: boolean): fc.Arbitrary<Payload> =>
  fc
    .constantFrom('space', 'library', 'other', 'new1')
    .chain((space) => fc.tuple(fc.constant(space), fc.array(distributionEvent(space, odd), { minLength: 1, maxLength: 3 })))
    .map(([space, events]) => ({ project: space, body: { events }, contentType: 'application/vnd.docker.distribution.events.v1+json' }));

/** Valid admin bodies by function, the starting points of mutation. */
const ADMIN_BODIES: Record<string, fc.Arbitrary<Json>> = {
  'create-registry': fc
    .record(
      {
        name: fc.constantFrom('fuzz', 'x', 'Harbor Prod'),
        kind: fc.constantFrom('harbor', 'docker-registry'),
        mode: fc.constantFrom('hosted', 'integrated'),
        url: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...LOOPBACK_URLS) }, { weight: 1, arbitrary: fc.constantFrom(...INVALID_URLS) }),
        credentials: fc.constantFrom({ username: 'admin', password: 'Harbor12345' }, { username: 'admin', password: 'wrong' }),
        insecure: fc.boolean(),
      },
      { requiredKeys: ['name', 'kind', 'mode', 'url'] },
    )
    .map((r) => JsonValue.parse(r)),
  'create-space': fc.record({ name: fc.constantFrom(...SPACES), visibility: fc.constantFrom('public', 'private') }),
  'update-space': fc.record({ visibility: fc.constantFrom('public', 'private') }),
  'preview-space-change': fc
    .oneof(
      fc.record({ action: fc.constant('make-private'), first: fc.integer({ min: 1, max: 100 }) }, { requiredKeys: ['action'] }),
      fc.record({ action: fc.constant('unbind'), workspaceId: fc.constantFrom(...WORKSPACES), first: fc.integer({ min: 1, max: 100 }) }, { requiredKeys: ['action', 'workspaceId'] }),
      fc.record({ action: fc.constant('delete') }),
    )
    .map((r) => JsonValue.parse(r)),
  'put-workspace': fc.record({ displayName: fc.constantFrom('Team A', 'W') }, { requiredKeys: [] }).map((r) => JsonValue.parse(r)),
  'put-namespace': fc.record({ workspaceId: fc.constantFrom<Json>(...WORKSPACES, null) }),
  'put-cluster': fc
    .record(
      {
        displayName: fc.constantFrom('Production', 'c'),
        unmanagedImages: fc.constantFrom('allow', 'deny'),
        mode: fc.constantFrom('enforce', 'audit'),
        exemptNamespaces: fc.subarray(['n1', 'n2', 'n3', 'mine', 'default', 'kube-system']),
      },
      { requiredKeys: ['unmanagedImages'] },
    )
    .map((r) => JsonValue.parse(r)),
  'rotate-admission-token': fc.record({ graceSeconds: fc.constantFrom(0, 60, 3600, 86_400) }, { requiredKeys: [] }),
};

/** An odd body: the valid one mutated or badly serialized, or over the size limit (rarely: each costs a megabyte). */
const oddBody = (valid: fc.Arbitrary<Json>): fc.Arbitrary<FuzzBody> =>
  fc.oneof(
    { weight: 30, arbitrary: valid.chain(mutated).chain(serialized) },
    { weight: 10, arbitrary: valid.chain(mutateOnce).map((v) => utf8(JSON.stringify(v))) },
    { weight: 1, arbitrary: hugeBody },
  );

const assemble = (route: Route, parts: { path: string; query: string; auth: Auth; body?: FuzzBody; headers: Record<string, string> }): FuzzRequest => ({
  fn: route.fn,
  route: `${route.method} ${route.path}`,
  method: route.method,
  path: parts.path + parts.query,
  headers: { ...(parts.auth.header !== undefined ? { authorization: parts.auth.header } : {}), ...parts.headers },
  ...(parts.body ? { body: parts.body } : {}),
  auth: parts.auth.kind,
});

const roleOf = (path: string) => /«reg:(\w+)»/.exec(path)?.[1] ?? 'hb';

const webhookRequest = (route: Route, kind: 'harbor' | 'distribution'): fc.Arbitrary<FuzzRequest> =>
  focusArb.chain((focus) =>
    fc
      .tuple(pathArb(route, focus === 'path'), kind === 'harbor' ? harborPayload(focus === 'body') : distributionPayload(focus === 'body'))
      .chain(([path, payload]) =>
        fc.record({
          path: fc.constant(path),
          query: queryArb(route, focus === 'query'),
          auth: focus === 'auth' ? oddWebhookAuth(roleOf(path), kind) : fc.constant(ownWebhookAuth(roleOf(path), payload.project, kind)),
          body: focus === 'body' ? oddBody(fc.constant(payload.body)) : fc.constant(utf8(JSON.stringify(payload.body))),
          headers: headersArb(payload.contentType, focus === 'headers'),
        }),
      )
      .map((parts) => assemble(route, parts)),
  );

const kubernetesFixtures = readdirSync(join(import.meta.dirname, '..', 'fixtures', 'kubernetes'))
  .filter((f) => /^(admissionreview-v1-|thirdparty-connaisseur-).*\.json$/.test(f))
  .map((f) => JsonValue.parse(fixture(`kubernetes/${f}`)));
/** Reviews as kube-apiserver sends them: the starting points of valid reviews. */
const REVIEWS = kubernetesFixtures.filter((f) => isObject(f) && f.apiVersion === 'admission.k8s.io/v1' && isObject(f.request) && !isObject(f.response));
/** Real documents a review route must refuse: answers (`response`), v1beta1 reviews, connaisseur's `oldObject: "None"`. */
const FOREIGN_REVIEWS = kubernetesFixtures.filter((f) => !REVIEWS.includes(f));
/** distribution/reference's own test inputs (see the fixture): valid, invalid and borderline references. */
const REFERENCE_CASES = z
  .object({ cases: z.array(z.object({ input: z.string() })) })
  .parse(fixture('kubernetes/image-references.cases.json'))
  .cases.map((c) => c.input);

/** Where a review's object keeps its images (the `image` of each container, wherever the pod spec is). */
const imagePathsOf = (value: Json, at: JsonPath = []): JsonPath[] => {
  if (Array.isArray(value)) return value.flatMap((v, i) => imagePathsOf(v, [...at, i]));
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === 'image' && typeof v === 'string' ? [[...at, k]] : imagePathsOf(v, [...at, k])));
};

/** Images of the world: selectable in some namespaces and not others, or on hosts no registry serves. */
const REVIEW_IMAGES = [
  '«host:hb»/team/api:v1',
  '«host:hb»/team/api',
  '«host:hb»/library/app:v1',
  `«host:hb»/library/app@${DIGESTS[0]}`,
  '«host:hb»/shared/app',
  '«host:dr»/space/app:1.0',
  '«host:dr»/space/app',
  '«host:hi»/team/x',
  'docker.io/library/busybox:1.36',
  'nginx',
  'harbor.example.com/team-a/api:1.4.2',
] as const;
const HEX = 'a'.repeat(64);
/** Image strings that are huge, hold control characters, upper-case hosts, odd digests, or no host at all. */
const ODD_REVIEW_IMAGES: readonly string[] = [
  'x'.repeat(4096),
  `«host:hb»/team/${'a'.repeat(4000)}`,
  'a'.repeat(4097),
  LONG,
  '«host:hb»/team/api\u0000',
  'a\u0000b',
  '«host:hb»/team/api\r\nx: y',
  '\u202e«host:hb»/team/api',
  '\t',
  ' «host:hb»/team/api',
  'HARBOR.EXAMPLE.COM/team-a/api',
  'Docker.IO/library/busybox',
  'LOCALHOST:9/space/app',
  '«host:hb»/TEAM/api',
  'a_b.com/x',
  'a_b.com:9/x',
  '',
  ' ',
  '«host:hb»',
  '«host:hb»/',
  '«host:hb»/app',
  '«host:hb»//team/api',
  '«host:hb»/team/api:',
  '«host:hb»/team/api@',
  `«host:hb»/team/api@sha256:${HEX}`,
  `«host:hb»/team/api:v1@sha256:${HEX.toUpperCase()}`,
  '«host:hb»/team/api@sha256:zz',
  `«host:hb»/team/api@sha512:${'a'.repeat(128)}`,
  `«host:hb»/team/api:${'v'.repeat(129)}`,
  `sha256:${HEX}`,
  HEX,
  '[::1]:9/space/app',
  '[::1/x',
  'localhost/space/app',
  '127.0.0.1:9/space/app',
  '127.0.0.1:09/space/app',
  '127.0.0.1:99999/x',
  '😀/x',
  'e\u0301/x',
  '__proto__',
  'constructor/x',
  'AUDIENCE#public',
];
const reviewImage = (odd: boolean): fc.Arbitrary<string> =>
  odd
    ? fc.oneof(
        { weight: 2, arbitrary: fc.constantFrom(...REVIEW_IMAGES) },
        { weight: 3, arbitrary: fc.constantFrom(...ODD_REVIEW_IMAGES) },
        { weight: 2, arbitrary: fc.constantFrom(...REFERENCE_CASES) },
        { weight: 1, arbitrary: fc.constantFrom(...ODD_STRINGS) },
      )
    : fc.constantFrom(...REVIEW_IMAGES);

/**
 * How a review is aimed at the world: its namespace (null leaves it out), the images put into its containers in
 * turn, and its old object: the fixture's, the new one (an UPDATE that adds no image), or the fixture's original
 * object under an UPDATE (every aimed image is new).
 */
type ReviewAim = { namespace: string | null; images: string[]; old: 'fixture' | 'same' | 'original'; dryRun: boolean };
const reviewAimArb = (odd: boolean): fc.Arbitrary<ReviewAim> =>
  fc.record({
    namespace: fc.constantFrom('n1', 'n1', 'n2', 'n3', 'mine', 'default', 'kube-system', null),
    images: fc.array(reviewImage(odd), { minLength: 1, maxLength: 4 }),
    old: fc.constantFrom('fixture', 'fixture', 'same', 'original'),
    dryRun: fc.constantFrom(false, false, false, true),
  });
const aimReview = (raw: Json, aim: ReviewAim): Json => {
  const original = valueAt(raw, ['request', 'object']) ?? null;
  let v = imagePathsOf(original).reduce((acc, p, i) => setAt(acc, ['request', 'object', ...p], aim.images[i % aim.images.length] ?? ''), raw);
  v = aim.namespace === null ? (updateAt(v, ['request', 'namespace'], () => undefined) ?? v) : setAt(v, ['request', 'namespace'], aim.namespace);
  if (aim.old === 'same' && valueAt(v, ['request', 'operation']) === 'UPDATE') v = setAt(v, ['request', 'oldObject'], valueAt(v, ['request', 'object']) ?? null);
  if (aim.old === 'original') v = setAt(setAt(v, ['request', 'operation'], 'UPDATE'), ['request', 'oldObject'], original);
  return aim.dryRun ? setAt(v, ['request', 'dryRun'], true) : v;
};
const reviewArb = (odd: boolean): fc.Arbitrary<Json> => fc.tuple(fc.constantFrom(...REVIEWS), reviewAimArb(odd)).map(([raw, aim]) => aimReview(raw, aim));

/** Container lists of the wrong shape, empty, over `MAX_CONTAINERS`, or at the limit with distinct managed images. */
const ODD_CONTAINER_LISTS: readonly Json[] = [
  null,
  {},
  'x',
  1,
  [],
  [null],
  [1],
  ['nginx'],
  [[]],
  [{}],
  [{ image: null }],
  [{ image: 5 }],
  [{ image: ['nginx'] }],
  [{ image: { name: 'nginx' } }],
  [{ name: 5, image: 'nginx' }],
  [{ name: null, image: 'nginx' }],
  [{ name: 'x'.repeat(254), image: 'nginx' }],
  [{ name: '\u0000\u2028', image: 'nginx' }],
  [{ name: '', image: '' }],
  Array.from({ length: 1001 }, () => ({ image: 'nginx' })),
  Array.from({ length: 1000 }, (_, i) => ({ name: `c${i}`, image: `«host:hb»/team/app-${i}:v1` })),
  Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, image: `unmanaged-${i}.example/x:v1` })),
];
/** Objects a review may carry instead of a workload: no object, not an object, pod specs where they should not be. */
const ODD_OBJECTS: readonly Json[] = [
  'None',
  [],
  null,
  {},
  1,
  { spec: [] },
  { spec: { containers: {} } },
  { spec: { template: 'x' } },
  { spec: { template: { spec: { initContainers: 'nginx' } } } },
  { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ image: 'docker.io/library/busybox' }] } } } } } },
  { kind: 'EphemeralContainers', ephemeralContainers: [{ image: 'nginx' }] },
  { kind: 'EphemeralContainers', ephemeralContainers: 'x' },
];
type Twist = { at: JsonPath; to?: Json };
const twists = (at: JsonPath, values: readonly Json[], remove = true): Twist[] => [...values.map((to) => ({ at, to })), ...(remove ? [{ at }] : [])];
/** Changes to a review's envelope and request, one place at a time (no `to`: the key is left out). */
const REVIEW_TWISTS: readonly Twist[] = [
  ...twists(['apiVersion'], ['admission.k8s.io/v1beta1', 'v1', '', 'ADMISSION.K8S.IO/V1', 'admission.k8s.io/v2', null]),
  ...twists(['kind'], ['AdmissionReviewList', 'admissionreview', '']),
  ...twists(['request'], [null, [], 'None', {}, 1]),
  ...twists(['request', 'uid'], ['', 'u'.repeat(128), 'u'.repeat(129), 5, null, 'a\u0000b', '\ud800', '../x']),
  ...twists(['request', 'kind'], [{}, 'Pod', null, { group: '', version: 'v1' }, { group: 'apps', version: 'v1', kind: 'x'.repeat(254) }]),
  ...twists(['request', 'kind', 'kind'], [5, null]),
  ...twists(['request', 'kind', 'group'], [null, 'g'.repeat(254)]),
  ...twists(['request', 'resource'], [{}, 'pods']),
  ...twists(['request', 'operation'], ['create', 'PATCH', '', null, 'DELETE', 'CONNECT', 'UPDATE', 1]),
  ...twists(['request', 'object'], ODD_OBJECTS),
  ...twists(['request', 'oldObject'], ['None', [], {}, null, 1, 'x'.repeat(1000)]),
  ...twists(['request', 'namespace'], ['', 'N1', 'n1 ', '__proto__', 'constructor', 'a'.repeat(253), 'a'.repeat(254), 'kube-system\u0000', 'n1/../n2', 'NAMESPACE#c#n1', 5, null, [], {}]),
  ...twists(['request', 'dryRun'], ['true', 1, null], false),
  ...twists(['request', 'userInfo'], ['admin', null, { username: 'u'.repeat(513) }, { groups: 'system:masters' }, { extra: { a: 'b' } }]),
  ...twists(['request', 'name'], ['n'.repeat(254), 5, '']),
  ...twists(['request', 'options'], ['x', []], false),
  ...twists(['request', 'subResource'], ['ephemeralcontainers', 's'.repeat(254)], false),
];
const twist = (review: Json, t: Twist): Json => (t.to === undefined ? (updateAt(review, t.at, () => undefined) ?? null) : setAt(review, t.at, t.to));
/** The review with the list holding its first image (its first container list) replaced. */
const withContainers = (review: Json, list: Json): Json => {
  const first = imagePathsOf(valueAt(review, ['request', 'object']) ?? null)[0];
  return first ? setAt(review, ['request', 'object', ...first.slice(0, -2)], list) : setAt(review, ['request', 'object', 'spec', 'containers'], list);
};
/** An UPDATE of a Pod whose object and old object each carry `bytes` of annotations (etcd takes 1.5 MiB an object). */
const bigReview = (bytes: number): FuzzBody => {
  const base = REVIEWS.find((r) => valueAt(r, ['request', 'kind', 'kind']) === 'Pod') ?? REVIEWS[0] ?? null;
  const padded = setAt(aimReview(base, { namespace: 'n1', images: ['«host:hb»/team/api:v1'], old: 'original', dryRun: false }), ['request', 'object', 'metadata', 'annotations', 'pad'], 'x'.repeat(bytes));
  return utf8(JSON.stringify(setAt(padded, ['request', 'oldObject', 'metadata', 'annotations', 'pad'], 'x'.repeat(bytes))));
};
/** Under the route's 4 MiB limit (must be reviewed) and over it (413); rare, each costs megabytes. */
const BIG_REVIEWS = [bigReview(1_500_000), bigReview(2_200_000)] as const;

/** An odd review: odd images and a twist or two, odd containers, the mutations every body gets, a foreign document, or big. */
const oddReview: fc.Arbitrary<FuzzBody> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(reviewArb(true), fc.array(fc.constantFrom(...REVIEW_TWISTS), { maxLength: 2 }))
      .map(([review, ts]) => utf8(JSON.stringify(ts.reduce(twist, review)))),
  },
  { weight: 3, arbitrary: fc.tuple(reviewArb(false), fc.constantFrom(...ODD_CONTAINER_LISTS)).map(([review, list]) => utf8(JSON.stringify(withContainers(review, list)))) },
  { weight: 4, arbitrary: reviewArb(false).chain(mutated).chain(serialized) },
  { weight: 1, arbitrary: fc.constantFrom(...FOREIGN_REVIEWS).map((v) => utf8(JSON.stringify(v))) },
  { weight: 1, arbitrary: fc.constantFrom(...BIG_REVIEWS) },
);

/** The cluster a review path names, if it is one of the world's (a bent path may still name it). */
const clusterOf = (path: string): ClusterName => {
  const named = /\/clusters\/([a-z0-9-]+)/i.exec(path)?.[1];
  return [...CLUSTER_ROLES.core, ...CLUSTER_ROLES.sacrificial].find((c) => c === named) ?? 'c';
};
/** The admission token of the path's cluster. */
const ownAdmissionAuth = (cluster: ClusterName): Auth => ({ header: `Bearer «ctoken:${cluster}»`, kind: 'webhook' });
/**
 * Other credentials: the right token badly presented, a JWT; or ones that must never open the route (another
 * cluster's token, a registry's webhook secret, a token with a character more, garbage).
 */
const oddAdmissionAuth = (cluster: ClusterName): fc.Arbitrary<Auth> =>
  fc.oneof(
    {
      weight: 2,
      arbitrary: fc.constantFrom<Auth>(
        { header: `bearer «ctoken:${cluster}»`, kind: 'webhook' },
        { header: `Bearer  «ctoken:${cluster}»`, kind: 'webhook' },
        { header: `«ctoken:${cluster}»`, kind: 'webhook' },
        { header: `Bearer «ctoken:${cluster}» `, kind: 'webhook' },
        { header: tok('admin'), kind: 'signed' },
      ),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom<Auth>(
        { kind: 'bad' },
        { header: `Bearer «ctoken:${cluster === 'c' ? 'prod' : 'c'}»`, kind: 'bad' },
        { header: `Bearer «ctoken:${cluster}»x`, kind: 'bad' },
        { header: 'Bearer «secret:dr»', kind: 'bad' },
        { header: 'Bearer pira_AAAA', kind: 'bad' },
        { header: 'Bearer ', kind: 'bad' },
        { header: `Bearer ${'x'.repeat(600)}`, kind: 'bad' },
        { header: 'Basic YWRtaW46SGFyYm9yMTIzNDU=', kind: 'bad' },
      ),
    },
  );

/** AdmissionReviews from the fixtures, aimed at the world's clusters, namespaces and images. */
const admissionRequest = (route: Route): fc.Arbitrary<FuzzRequest> =>
  focusArb.chain((focus) =>
    pathArb(route, focus === 'path')
      .chain((path) =>
        fc.record({
          path: fc.constant(path),
          query: queryArb(route, focus === 'query'),
          auth: focus === 'auth' ? oddAdmissionAuth(clusterOf(path)) : fc.constant(ownAdmissionAuth(clusterOf(path))),
          body: focus === 'body' ? oddReview : reviewArb(false).map((v) => utf8(JSON.stringify(v))),
          headers: headersArb('application/json', focus === 'headers'),
        }),
      )
      .map((parts) => assemble(route, parts)),
  );

/** Requests aimed at one route. */
export const requestFor = (route: Route): fc.Arbitrary<FuzzRequest> => {
  if (route.fn === 'receive-harbor-webhook') return webhookRequest(route, 'harbor');
  if (route.fn === 'receive-distribution-webhook') return webhookRequest(route, 'distribution');
  if (route.fn === 'review-admission') return admissionRequest(route);
  const valid = ADMIN_BODIES[route.fn];
  return focusArb.chain((focus) =>
    fc
      .record({
        path: pathArb(route, focus === 'path'),
        query: queryArb(route, focus === 'query'),
        oddAuth: focus === 'auth' ? (route.access === 'webhook' ? oddWebhookAuth('hb', 'harbor') : oddTokenAuth) : fc.constant(undefined),
        body:
          focus === 'body'
            ? oddBody(valid ?? oddValue).map((b): FuzzBody | undefined => b)
            : valid
              ? valid.map((v): FuzzBody | undefined => utf8(JSON.stringify(v)))
              : fc.constant(undefined),
        headers: headersArb(valid || focus === 'body' ? 'application/json' : undefined, focus === 'headers'),
      })
      .map(({ oddAuth, body, ...parts }) => assemble(route, { ...parts, auth: oddAuth ?? validAuth(route, parts.path), ...(body ? { body } : {}) })),
  );
};

/**
 * Requests over every route of `ROUTE_LIST`; webhooks (the richest input) four times as often, admission reviews (whose
 * shapes vary most) six times, routes with a body twice.
 */
const weightOf = (route: Route) => (route.fn === 'review-admission' ? 6 : route.access === 'webhook' ? 4 : ADMIN_BODIES[route.fn] ? 2 : 1);
export const anyRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(...ROUTE_LIST.map((route) => ({ weight: weightOf(route), arbitrary: requestFor(route) })));
