import { describe, expect, it } from 'vitest';
import { drivingPrefix, matchesQuery, MAX_PREFIX, postingPrefixes, searchTokens } from '../../shared/domain/search-tokens.ts';

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

  it('gives each distinct prefix of every word one posting, from one character up to MAX_PREFIX', () => {
    expect(postingPrefixes('h.test/app/app-api').sort()).toEqual(['a', 'ap', 'api', 'app', 'h', 't', 'te', 'tes', 'test'].sort());
    const long = 'x'.repeat(MAX_PREFIX + 9);
    const prefixes = postingPrefixes(`h/${long}`);
    expect(prefixes).toHaveLength(1 + MAX_PREFIX);
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

describe('the posting a search reads', () => {
  it('is that of the longest query word, the last of equals, cut to MAX_PREFIX', () => {
    expect(drivingPrefix(searchTokens('api gateway'))).toBe('gateway');
    expect(drivingPrefix(searchTokens('web api'))).toBe('api');
    expect(drivingPrefix(searchTokens('y'.repeat(MAX_PREFIX + 4)))).toBe('y'.repeat(MAX_PREFIX));
    expect(drivingPrefix([])).toBeUndefined();
  });
});
