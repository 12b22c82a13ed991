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
