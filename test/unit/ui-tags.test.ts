import { describe, expect, it } from 'vitest';
import { compareSemver, parseSemver, reference, shortDigest, sortTags } from '../../web/src/tags.ts';

const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 0, minutes)).toISOString();
const tag = (name: string, minutes: number) => ({ tag: name, digest: `sha256:${name.replace(/\W/g, '').padEnd(64, '0')}`, pushedAt: at(minutes) });
const names = (tags: { tag: string }[]) => tags.map((t) => t.tag);
const cmp = (a: string, b: string) => {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) throw new Error(`${a} or ${b} is not semver`);
  return Math.sign(compareSemver(x, y));
};

describe('tag ordering in the selector page', () => {
  it('reads the version shapes registries use, and nothing else', () => {
    for (const t of ['1', 'v2', '1.27', 'v1.2.3', '1.27.3-alpine3.19', '2.0.0-rc.1']) expect(parseSemver(t), t).toBeDefined();
    for (const t of ['latest', 'main', 'sha-1a2b3c', '1.2.3.4', 'v']) expect(parseSemver(t), t).toBeUndefined();
  });

  it('follows semver precedence: numeric parts as numbers, a release above its pre-releases', () => {
    expect(cmp('1.10.0', '1.9.0')).toBe(1);
    expect(cmp('v2', '1.99.99')).toBe(1);
    expect(cmp('1.0.0', '1.0.0-rc.1')).toBe(1);
    expect(cmp('1.0.0-rc.10', '1.0.0-rc.9')).toBe(1);
    expect(cmp('1.0.0-rc.1', '1.0.0-beta')).toBe(1);
    expect(cmp('1.0.0-alpha.1', '1.0.0-alpha')).toBe(1);
    expect(cmp('1.0.0-1', '1.0.0-alpha')).toBe(-1);
    expect(cmp('1.27', '1.27.0')).toBe(0);
  });

  it('puts the newest push first, and the tags of one push in version order', () => {
    const tags = [tag('1.8.0', 1), tag('latest', 5), tag('1.9.0', 5), tag('1.10.0', 5), tag('nightly', 9)];
    expect(names(sortTags(tags, 'newest'))).toEqual(['nightly', '1.10.0', '1.9.0', 'latest', '1.8.0']);
  });

  it('orders by version on request, the other tags after, newest first', () => {
    const tags = [tag('1.8.0', 9), tag('latest', 5), tag('2.0.0-rc.1', 7), tag('2.0.0', 1), tag('1.10.0', 2), tag('main', 8)];
    expect(names(sortTags(tags, 'version'))).toEqual(['2.0.0', '2.0.0-rc.1', '1.10.0', '1.8.0', 'main', 'latest']);
  });

  it('builds the reference by tag, or pinned to the digest', () => {
    const t = tag('v1', 0);
    expect(reference('harbor.example/payments/api', t, false)).toBe('harbor.example/payments/api:v1');
    expect(reference('harbor.example/payments/api', t, true)).toBe(`harbor.example/payments/api@${t.digest}`);
    expect(shortDigest(t.digest)).toBe(`${t.digest.slice(0, 19)}…`);
  });
});
