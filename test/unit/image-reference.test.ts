import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { hostKey, isImageId, normalizeImageReference, type ImageReferenceResult } from '../../shared/kubernetes/image-reference.ts';
import { fixture } from '../helpers/fixtures.ts';

const Result = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    domain: z.string(),
    path: z.string(),
    tag: z.string().nullable(),
    digest: z.string().nullable(),
    string: z.string(),
    familiar: z.string(),
    dockerRef: z.string(),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
const Case = z.object({ input: z.string(), result: Result });
const Cases = z.object({ cases: z.array(Case), projectExamples: z.array(Case) });
const { cases, projectExamples } = Cases.parse(fixture('kubernetes/image-references.cases.json'));

const HEX64 = 'b895725a79793f4f2f774dd7a14f46904ac614376924c1d19c76ada78cd36718';
const ok = (input: string) => {
  const result = normalizeImageReference(input);
  if (!result.ok) throw new Error(`expected ${input} to parse: ${result.error}`);
  return result;
};
const error = (input: string): string => {
  const result = normalizeImageReference(input);
  if (result.ok) throw new Error(`expected ${JSON.stringify(input.slice(0, 80))} to be refused, got ${result.string}`);
  return result.error;
};
const expectSameAsGo = (input: string, expected: z.infer<typeof Result>) => {
  const actual: ImageReferenceResult = normalizeImageReference(input);
  expect(actual.ok).toBe(expected.ok);
  if (expected.ok && actual.ok) {
    const { domain, path, tag, digest, string, familiar, dockerRef } = actual;
    const { ok: _, ...fields } = expected;
    expect({ domain, path, tag, digest, string, familiar, dockerRef }).toEqual(fields);
  }
};

describe('image references, as distribution/reference normalises them', () => {
  it('has the 56 library cases and 11 project images of the fixture', () => {
    expect([cases.length, projectExamples.length]).toEqual([56, 11]);
  });

  it.each(cases.map((c) => [c.input.slice(0, 90), c] as const))('matches the Go library on %s', (_, c) => {
    expectSameAsGo(c.input, c.result);
  });

  it.each(projectExamples.map((c) => [c.input.slice(0, 90), c] as const))('matches the Go library on the project image %s', (_, c) => {
    expectSameAsGo(c.input, c.result);
  });

  it('refuses empty, blank, control-character and malformed inputs, saying what is wrong', () => {
    for (const input of ['', ' ', ' nginx', 'nginx ', 'nginx\n', 'ngi\u0000nx', 'harbor.example.com/a\tb:1', 'nginx:', 'nginx@', ':tag', '/nginx', 'a//b', 'a/']) {
      expect(error(input), input).toMatch(/^invalid image reference ".*": invalid reference format$/s);
    }
    expect(error('ngi\u0000nx')).toContain('"ngi\\u0000nx"');
  });

  it('refuses a digest that is too short, unregistered, upper case or of the wrong length', () => {
    expect(error('host/path:tag@sha256:short')).toMatch(/invalid reference format/);
    expect(error(`repo@sha256:${'f'.repeat(34)}`)).toMatch(/sha256 digest is 64 lower-case hex/);
    expect(error(`repo@sha256:${HEX64.toUpperCase()}`)).toMatch(/sha256 digest is 64 lower-case hex/);
    expect(error(`repo@md5:${'f'.repeat(32)}`)).toMatch(/unsupported digest algorithm "md5"/);
    expect(error(`repo@${'f'.repeat(40)}`)).toMatch(/invalid reference format/);
    // go-digest reads the algorithm case-sensitively; ParseNormalizedNamed's lower-case check catches it first.
    expect(error(`repo@SHA256:${HEX64}`)).toMatch(/must be lowercase/);
  });

  it('accepts sha384 and sha512 digests, as a runtime linking crypto/sha512 does', () => {
    expect(ok(`repo@sha384:${'a'.repeat(96)}`).digest).toBe(`sha384:${'a'.repeat(96)}`);
    expect(ok(`repo@sha512:${'a'.repeat(128)}`).dockerRef).toBe(`docker.io/library/repo@sha512:${'a'.repeat(128)}`);
  });

  it('bounds the path (not the domain) at 255 characters, like distribution/reference since its PR #9', () => {
    const path255 = `${'a/'.repeat(127)}a`;
    expect(ok(`registry.example.com/${path255}`).path).toBe(path255);
    expect(error(`localhost/${path255}b`)).toMatch(/must not be more than 255 characters/);
  });

  it('keeps the Go quirk: a first segment that is no host but a valid path component leaves the domain empty', () => {
    expect(ok('a_b.com/foo')).toMatchObject({ domain: '', path: 'a_b.com/foo', string: 'a_b.com/foo', dockerRef: 'a_b.com/foo:latest' });
  });

  it('reads IPv6 hosts in brackets, with or without a port, and refuses zones', () => {
    expect(ok('[2001:db8::1]:5000/repo:tag')).toMatchObject({ domain: '[2001:db8::1]:5000', path: 'repo', tag: 'tag' });
    expect(ok('[::1]/repo').domain).toBe('[::1]');
    error('[fe80::1%eth0]:5000/repo');
    error('[2001:db8::1]:5000');
  });

  it('refuses input over 4096 characters without echoing it, and never echoes more than 256 characters', () => {
    const long = 'a'.repeat(5000);
    const message = error(long);
    expect(message).toMatch(/5000 characters, at most 4096/);
    expect(message).not.toContain('aaaa');
    for (const input of [`${'A'.repeat(300)}:tag`, `${'a'.repeat(4000)}!`, `x.com/${'B'.repeat(2000)}:t`]) {
      const longestRun = Math.max(...(error(input).match(/[aAB]+/g) ?? ['']).map((run) => run.length));
      expect(longestRun).toBeLessThanOrEqual(256);
    }
  });

  it('answers (and refuses) hostile 4 KiB inputs made of repeated separators and letters', () => {
    // Inputs that make a backtracking engine explode on patterns with nested, overlapping repetitions.
    const hostile = [
      `${'a'.repeat(4095)}!`,
      `${'a-'.repeat(2047)}!`,
      `${'a_'.repeat(2047)}!`,
      `a${'-'.repeat(4094)}!`,
      `a${'_'.repeat(4094)}`,
      `${'a.'.repeat(2047)}/!`,
      `x.com/${'a__'.repeat(1362)}!`,
      `${'a'.repeat(2000)}@sha256${'0'.repeat(2000)}!`,
      `x/y@${'a-'.repeat(2000)}:${'0'.repeat(40)}!`,
    ];
    for (const input of hostile) {
      expect(input.length).toBeLessThanOrEqual(4096);
      expect(normalizeImageReference(input).ok).toBe(false);
    }
  });
});

/**
 * The Go pattern itself (regexp.go @ 0965666a, composed exactly as there, `[[:xdigit:]]` spelled out), used as an
 * oracle on short inputs only, where backtracking is harmless. The module splits at delimiters instead; this checks
 * that both read every reference the same way.
 */
const GO = (() => {
  const alphanumeric = '[a-z0-9]+';
  const separator = '(?:[._]|__|[-]+)';
  const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
  const optionalPort = '(?::[0-9]+)?';
  const tag = '[\\w][\\w.-]{0,127}';
  const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';
  const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
  const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
  const domainAndPort = `(?:${domainName}|${ipv6address})${optionalPort}`;
  const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
  const remoteName = `${pathComponent}(?:/${pathComponent})*`;
  const namePat = `(?:${domainAndPort}/)?${remoteName}`;
  return {
    reference: new RegExp(`^(${namePat})(?::(${tag}))?(?:@(${digestPat}))?$`),
    anchoredName: new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`),
  };
})();
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** ParseNormalizedNamed, transcribed from normalize.go/reference.go with the literal pattern; ok and the four parts only. */
const goParseNormalizedNamed = (s: string): { ok: false } | { ok: true; domain: string; path: string; tag: string | null; digest: string | null } => {
  if (/^[a-f0-9]{64}$/.test(s)) return { ok: false };
  const slash = s.indexOf('/');
  let [domain, remainder] = slash < 0 ? ['docker.io', `library/${s}`] : [s.slice(0, slash), s.slice(slash + 1)];
  if (slash >= 0) {
    if (domain === 'index.docker.io') domain = 'docker.io';
    else if (!(domain === 'localhost' || /[.:]/.test(domain) || domain.toLowerCase() !== domain)) [domain, remainder] = ['docker.io', s];
    if (domain === 'docker.io' && !remainder.includes('/')) remainder = `library/${remainder}`;
  }
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) return { ok: false };
  const match = GO.reference.exec(`${domain}/${remainder}`);
  if (!match) return { ok: false };
  const name = GO.anchoredName.exec(match[1] ?? '');
  const repo = { domain: name?.[1] ?? '', path: name?.[2] ?? match[1] ?? '' };
  if (repo.path.length > 255) return { ok: false };
  const digest = match[3] ?? null;
  if (digest !== null) {
    const [algorithm = '', hex = ''] = digest.split(':');
    if (!(algorithm in HEX_LENGTH) || hex.length !== HEX_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(hex)) return { ok: false };
  }
  return { ok: true, ...repo, tag: match[2] ?? null, digest };
};

describe('the delimiter-splitting parser against the Go pattern itself', () => {
  it('agrees with the oracle on every fixture input', () => {
    for (const c of [...cases, ...projectExamples]) {
      const go = goParseNormalizedNamed(c.input);
      expect(go.ok, c.input).toBe(c.result.ok);
      if (go.ok && c.result.ok) expect(go).toMatchObject({ domain: c.result.domain, path: c.result.path, tag: c.result.tag, digest: c.result.digest });
    }
  });

  it('agrees with the oracle on random short references built from the grammar characters', () => {
    const chars = (...pieces: string[]) => fc.array(fc.constantFrom(...pieces), { maxLength: 5 }).map((p) => p.join(''));
    const run = fc.array(fc.constantFrom('a', 'b', '0', '9'), { minLength: 1, maxLength: 3 }).map((p) => p.join(''));
    const pathComponent = fc
      .tuple(run, fc.array(fc.tuple(fc.constantFrom('.', '_', '__', '-', '--'), run), { maxLength: 2 }))
      .map(([head, tail]) => head + tail.map(([separator, alnum]) => separator + alnum).join(''));
    const segment = fc.oneof(
      { arbitrary: pathComponent, weight: 5 },
      { arbitrary: fc.constantFrom('localhost', 'index.docker.io', 'docker.io', 'LOCALDOMAIN', 'a_b.com', 'a-b.c:443', '[fc00::1]:5000', '[::1]'), weight: 2 },
      { arbitrary: chars('a', 'b', '0', 'A', '.', '_', '__', '-', ':', '5000', '[', ']', '::1'), weight: 2 },
    );
    const name = fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => segments.join('/'));
    const tag = fc.option(chars('v', '1', '.', '-', '_', 'A', 'x', 'v', '1', ':', '/').map((t) => `:${t}`), { nil: '', freq: 2 });
    const digest = fc.option(
      fc.constantFrom(`sha256:${HEX64}`, `sha256:${HEX64}`, `sha512:${'c'.repeat(128)}`, `sha384:${'d'.repeat(96)}`, `sha256:${HEX64.toUpperCase()}`,
        `sha256:${HEX64.slice(1)}`, `md5:${'e'.repeat(32)}`, `a+b.c:${'e'.repeat(32)}`, 'sha256:short', '', `SHA256:${HEX64}`).map((d) => `@${d}`),
      { nil: '', freq: 2 },
    );
    const structured = fc.tuple(name, tag, digest).map((parts) => parts.join(''));
    const noise = fc.array(fc.constantFrom('a', 'A', '0', '.', '_', '-', '/', ':', '@', '[', ']', '%', ' ', '+', `sha256:${HEX64}`), { maxLength: 12 }).map((p) => p.join(''));
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof({ arbitrary: structured, weight: 4 }, { arbitrary: noise, weight: 1 }), (input) => {
        const mine = normalizeImageReference(input);
        const go = goParseNormalizedNamed(input);
        expect(mine.ok).toBe(go.ok);
        if (mine.ok && go.ok) {
          accepted += 1;
          const { ok: _, ...parts } = go;
          expect({ domain: mine.domain, path: mine.path, tag: mine.tag, digest: mine.digest }).toEqual(parts);
        }
      }),
      { numRuns: 20_000 },
    );
    // The generator must reach the accepting side often, or the comparison says little.
    expect(accepted).toBeGreaterThan(2_000);
  });
});

describe('registry host keys', () => {
  it('compare case-insensitively and without the https default port', () => {
    expect(hostKey('Harbor.Example.com')).toBe('harbor.example.com');
    expect(hostKey('harbor.example.com:443')).toBe('harbor.example.com');
    expect(hostKey('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(hostKey('[FC00::1]:443')).toBe('[fc00::1]');
    expect(hostKey('registry:4430')).toBe('registry:4430');
    // Go reads the port as a number: `:0443` is 443, `:05000` is 5000.
    expect(hostKey('harbor.example.com:0443')).toBe('harbor.example.com');
    expect(hostKey('127.0.0.1:05000')).toBe('127.0.0.1:5000');
    expect(hostKey(ok('LOCALDOMAIN/fooo').domain)).toBe(hostKey('localdomain'));
  });
});

describe('isImageId', () => {
  it('tells the spellings a runtime resolves against its local images from references', () => {
    for (const id of [`sha256:${'0'.repeat(64)}`, 'sha256:abcdef12', 'deadbeef', '3f2a9c:latest', 'a'.repeat(64)]) expect(isImageId(id), id).toBe(true);
    for (const ref of ['nginx', 'busybox:1.36', 'harbor.test/sec/db', `busybox@sha256:${'0'.repeat(64)}`, 'cafe', 'decade-app', 'harbor.test:443/x', 'abc123x']) expect(isImageId(ref), ref).toBe(false);
  });
});
