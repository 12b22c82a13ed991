import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signJwt, verifyJwt } from '../../shared/local/jwt.ts';

const secret = 'a-test-secret-of-enough-length';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('local JWT verification', () => {
  it('accepts a token it signed and returns its claims', () => {
    expect(verifyJwt(signJwt({ sub: 'u', roles: ['platform-admin'] }, secret), secret)).toMatchObject({ sub: 'u', roles: ['platform-admin'] });
  });

  it('refuses a wrong signature, an expired token and alg none', () => {
    expect(verifyJwt(signJwt({ sub: 'u' }, 'another-secret-entirely'), secret)).toBeUndefined();
    expect(verifyJwt(signJwt({ sub: 'u' }, secret, 60, Date.now() - 3600_000), secret)).toBeUndefined();
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u', exp: Date.now() / 1000 + 60 })}.`;
    expect(verifyJwt(none, secret)).toBeUndefined();
    expect(verifyJwt('not-a-token', secret)).toBeUndefined();
  });

  it('refuses a token without exp', () => {
    const [h] = signJwt({ sub: 'u' }, secret).split('.');
    const payload = b64({ sub: 'u' });
    const sig = createHmac('sha256', secret).update(`${h}.${payload}`).digest('base64url');
    expect(verifyJwt(`${h}.${payload}.${sig}`, secret)).toBeUndefined();
  });
});

describe('strict local JWT verification', () => {
  const now = Date.now();
  const seconds = Math.floor(now / 1000);
  const header = b64({ alg: 'HS256', typ: 'JWT' });
  /** A token over exactly these part texts, correctly signed: only the encoding or the claims are at fault. */
  const signedOver = (h: string, p: string) => `${h}.${p}.${createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;
  const valid = { sub: 'u', iat: seconds, exp: seconds + 600, roles: ['viewer'] };

  it('accepts a canonical token, the control of every case below', () => {
    expect(verifyJwt(signedOver(header, b64(valid)), secret, now)).toMatchObject({ sub: 'u' });
  });

  it('refuses trailing garbage, padding and non-canonical trailing bits in any part', () => {
    const token = signedOver(header, b64(valid));
    const [h, p, sig] = token.split('.') as [string, string, string];
    expect(verifyJwt(`${h}.${p}.${sig}$`, secret, now)).toBeUndefined();
    expect(verifyJwt(`${h}.${p}.${sig}=`, secret, now)).toBeUndefined();
    expect(verifyJwt(`${h}.${p}.${sig} `, secret, now)).toBeUndefined();
    // 43 characters carry 258 bits for a 32-byte signature: flipping an unused low bit decodes to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.slice(-1));
    expect(verifyJwt(`${h}.${p}.${sig.slice(0, -1)}${alphabet[last ^ 1]}`, secret, now)).toBeUndefined();
    const pad = (part: string) => part + '='.repeat((4 - (part.length % 4)) % 4);
    // A payload whose length is not a multiple of 4, so that padding has something to add.
    const odd = ['a', 'aa', 'aaa'].map((x) => b64({ ...valid, x })).find((part) => pad(part) !== part) ?? '';
    expect(verifyJwt(signedOver(h, odd), secret, now)).toMatchObject({ sub: 'u' });
    expect(verifyJwt(signedOver(h, pad(odd)), secret, now)).toBeUndefined();
    expect(verifyJwt(signedOver(`${h}=`, p), secret, now)).toBeUndefined();
    expect(verifyJwt(signedOver(h, `${p}!`), secret, now)).toBeUndefined();
  });

  it("refuses the '+/' alphabet", () => {
    // '>>>' and '???' encode to '+/' characters in standard base64 and to '-_' in base64url.
    const claims = { ...valid, note: '>>>???' };
    const standard = Buffer.from(JSON.stringify(claims)).toString('base64').replace(/=+$/, '');
    expect(standard).toMatch(/[+/]/);
    expect(verifyJwt(signedOver(header, b64(claims)), secret, now)).toMatchObject({ note: '>>>???' });
    expect(verifyJwt(signedOver(header, standard), secret, now)).toBeUndefined();
  });

  it('requires exp as an integer in the future and at most a year ahead', () => {
    const raw = (text: string) => signedOver(header, Buffer.from(text).toString('base64url'));
    expect(verifyJwt(signJwt({ sub: 'u', exp: 1e300 }, secret, 600, now), secret, now)).toBeUndefined();
    expect(verifyJwt(raw(`{"sub":"u","exp":1e400}`), secret, now)).toBeUndefined();
    expect(verifyJwt(signJwt({ sub: 'u', exp: seconds + 2 * 366 * 86_400 }, secret, 600, now), secret, now)).toBeUndefined();
    expect(verifyJwt(signJwt({ sub: 'u', exp: seconds + 600.5 }, secret, 600, now), secret, now)).toBeUndefined();
    expect(verifyJwt(signJwt({ sub: 'u', exp: String(seconds + 600) }, secret, 600, now), secret, now)).toBeUndefined();
    expect(verifyJwt(signJwt({ sub: 'u', exp: seconds + 300 * 86_400 }, secret, 600, now), secret, now)).toMatchObject({ sub: 'u' });
  });

  it('refuses iat and nbf in the future beyond 60 s, and non-numbers', () => {
    const at = (claims: Record<string, unknown>) => verifyJwt(signJwt({ sub: 'u', ...claims }, secret, 600, now), secret, now);
    expect(at({ iat: seconds + 3600 })).toBeUndefined();
    expect(at({ nbf: seconds + 3600 })).toBeUndefined();
    expect(at({ iat: 'yesterday' })).toBeUndefined();
    expect(at({ nbf: null })).toBeUndefined();
    expect(at({ iat: seconds + 30, nbf: seconds + 30 })).toMatchObject({ sub: 'u' });
  });

  it('requires roles and workspaces, when present, to be arrays of strings', () => {
    const with_ = (claims: Record<string, unknown>) => verifyJwt(signJwt({ sub: 'u', ...claims }, secret, 600, now), secret, now);
    expect(with_({ roles: 'viewer,platform-admin' })).toBeUndefined();
    expect(with_({ roles: '[platform-admin]' })).toBeUndefined();
    expect(with_({ workspaces: 'team-a' })).toBeUndefined();
    expect(with_({ roles: [1] })).toBeUndefined();
    expect(with_({ workspaces: { 0: 'team-a' } })).toBeUndefined();
    expect(with_({ roles: ['viewer', 'platform-admin'], workspaces: [] })).toMatchObject({ roles: ['viewer', 'platform-admin'] });
  });
});
