import { describe, expect, it } from 'vitest';
import { drivingPrefix, hostOf, hostRanges, matchesQuery, MAX_PREFIX, pathPrefixes, postingPrefixes, searchTokens, spacePrefixes, spaceRangeOf } from '../../shared/domain/search-tokens.ts';

const IMAGE = 'harbor.example/payments/api-gateway';

describe('search words', () => {
  it('splits an image into lower-case words on every character that is not a-z or 0-9', () => {
    expect(searchTokens(IMAGE)).toEqual(['harbor', 'example', 'payments', 'api', 'gateway']);
    expect(searchTokens('Harbor.Example:8443/Team_A/API__v2')).toEqual(['harbor', 'example', '8443', 'team', 'a', 'api', 'v2']);
  });

  it('treats letters outside a-z as separators, and a query of punctuation only as no word', () => {
    expect(searchTokens('café/naïve')).toEqual(['caf', 'na', 've']);
    expect(searchTokens('  --/.. ')).toEqual([]);
    expect(searchTokens('')).toEqual([]);
  });

  it('gives each distinct prefix of every word of the repository one posting, from one character up to MAX_PREFIX; the host and the space none', () => {
    expect(postingPrefixes('h.test/app/app-api').sort()).toEqual(['a', 'ap', 'api', 'app'].sort());
    expect(postingPrefixes('127.0.0.1:5000/team-a/web').sort()).toEqual(['w', 'we', 'web'].sort());
    expect(postingPrefixes('h.test/team/sub/web-1').sort()).toEqual(['1', 's', 'su', 'sub', 'w', 'we', 'web'].sort());
    // A path without a space segment (Docker Registry's `library`): all its words are the repository's.
    expect(postingPrefixes('h.test/nginx').sort()).toEqual(['n', 'ng', 'ngi', 'ngin', 'nginx'].sort());
    expect(pathPrefixes('127.0.0.1:5000/team-a/web').sort()).toEqual(['a', 't', 'te', 'tea', 'team', 'w', 'we', 'web'].sort());
    const long = 'x'.repeat(MAX_PREFIX + 9);
    const prefixes = postingPrefixes(`h/${long}`);
    expect(prefixes).toHaveLength(MAX_PREFIX);
    expect(Math.max(...prefixes.map((p) => p.length))).toBe(MAX_PREFIX);
    expect(prefixes).not.toContain(long);
  });
});

describe('matching a query', () => {
  const match = (q: string, image = IMAGE) => matchesQuery(image, searchTokens(q));

  it('matches when the query words start consecutive words of the image, in their order, in any case', () => {
    expect(match('pay')).toBe(true);
    expect(match('PAYMENTS')).toBe(true);
    expect(match('api gate')).toBe(true);
    expect(match('api-gate')).toBe(true);
    expect(match('example/pay')).toBe(true);
    expect(match('gateway harbor')).toBe(false);
    expect(match('pay gate')).toBe(false);
    // Words of the host never pair with words of the name they do not stand next to.
    expect(matchesQuery('127.0.0.1:3000/shared/svc-1', searchTokens('svc-3'))).toBe(false);
    expect(matchesQuery('127.0.0.1:3000/shared/svc-30', searchTokens('svc-3'))).toBe(true);
  });

  it('does not match inside a word, nor when one query word finds nothing', () => {
    expect(match('ments')).toBe(false);
    expect(match('ateway')).toBe(false);
    expect(match('api gatex')).toBe(false);
    expect(match('paymentsx')).toBe(false);
  });

  it('checks a query word longer than MAX_PREFIX in full', () => {
    const image = `h/${'a'.repeat(MAX_PREFIX)}bc`;
    expect(match(`${'a'.repeat(MAX_PREFIX)}b`, image)).toBe(true);
    expect(match(`${'a'.repeat(MAX_PREFIX)}x`, image)).toBe(false);
  });
});

describe('the host ranges a search reads', () => {
  const ranges = (host: string, q: string) => hostRanges(host, searchTokens(q)).sort();

  it('takes the range of a space as the host and the first segment of the path, and gives its words the space postings', () => {
    expect(spaceRangeOf('127.0.0.1:5000/team-a/web/api')).toBe('127.0.0.1:5000/team-a/');
    expect(spaceRangeOf('h.test/nginx')).toBeUndefined();
    expect(spacePrefixes('127.0.0.1:5000/team-a/').sort()).toEqual(['a', 't', 'te', 'tea', 'team'].sort());
  });

  it('takes the host of an image as everything before its first slash', () => {
    expect(hostOf('harbor.example:8443/payments/api')).toBe('harbor.example:8443');
    expect(hostOf('no-slash')).toBe('');
  });

  it('reads the whole host when every query word falls on its words', () => {
    expect(ranges('registry.example.com', 'registry')).toEqual(['']);
    expect(ranges('registry.example.com', 'EXAMPLE co')).toEqual(['']);
    expect(ranges('127.0.0.1:5000', '0 1 5')).toEqual(['']);
  });

  it('reads the images whose path starts with the next word when the query runs past the host', () => {
    expect(ranges('registry.example.com', 'com pay')).toEqual(['pay']);
    expect(ranges('registry.example.com', 'example com team a')).toEqual(['team']);
    // Two places on the host a match may start: each gives its range, and a range inside another is read by it.
    expect(ranges('a.b.a', 'a x')).toEqual(['x']);
    expect(ranges('a.b.a.b', 'a b x')).toEqual(['x']);
    expect(ranges('a.a', 'a a aa')).toEqual(['a']);
  });

  it('reads nothing when no match can start on the host', () => {
    expect(ranges('registry.example.com', 'pay')).toEqual([]);
    expect(ranges('registry.example.com', 'example registry')).toEqual([]);
    expect(ranges('registry.example.com', 'istry')).toEqual([]);
    expect(ranges('', 'a')).toEqual([]);
    expect(hostRanges('registry.example.com', [])).toEqual([]);
  });

  it('finds, with the postings, host ranges and space ranges, every image that matches (an exhaustive check over small names)', () => {
    const images = ['a.b/a/b', 'a.b/b/a-b', 'b.a:5/a/ab', 'ab.a/b/c', 'a/a', 'c.c/c/c', 'a.b/a-b/c/a', 'c/ab-c/b'];
    const queries = ['a', 'b', 'a b', 'b a', 'a b a', 'ab', 'b c', 'a a', '5', 'a 5 a', 'c c c', 'b a b', 'c'];
    for (const q of queries) {
      const words = searchTokens(q);
      const driving = drivingPrefix(words) ?? '';
      for (const image of images) {
        const host = hostOf(image);
        const fromPostings = postingPrefixes(image).includes(driving) && matchesQuery(image, words);
        const fromHost = hostRanges(host, words).some((r) => image.startsWith(`${host}/${r}`)) && matchesQuery(image, words);
        const range = spaceRangeOf(image);
        const fromSpace = !!range && spacePrefixes(range).includes(driving) && matchesQuery(image, words);
        expect(fromPostings || fromHost || fromSpace, `${q} on ${image}`).toBe(matchesQuery(image, words));
      }
    }
  });
});

describe('the posting a search reads', () => {
  it('is that of the longest query word, the last of equals, cut to MAX_PREFIX', () => {
    expect(drivingPrefix(searchTokens('api gateway'))).toBe('gateway');
    expect(drivingPrefix(searchTokens('web api'))).toBe('api');
    expect(drivingPrefix(searchTokens('y'.repeat(MAX_PREFIX + 4)))).toBe('y'.repeat(MAX_PREFIX));
    expect(drivingPrefix([])).toBeUndefined();
  });
});
