import { describe, expect, it } from 'vitest';
import { UpdateRegistryInput } from '../../shared/usecases/registries.ts';

const credentials = { username: 'admin', password: 'secret' };

describe('the PATCH /registries/{id} body', () => {
  it('takes each editable field on its own', () => {
    for (const body of [{ name: ' renamed ' }, { url: 'https://harbor.example/' }, { credentials }, { pullCredentials: credentials }, { pullCredentials: null }, { insecure: false }])
      expect(UpdateRegistryInput.safeParse(body).success, JSON.stringify(body)).toBe(true);
    expect(UpdateRegistryInput.parse({ name: ' renamed ', url: 'http://r.example:5000', confirmHostChange: true })).toEqual({ name: 'renamed', url: 'http://r.example:5000', confirmHostChange: true });
  });

  it('refuses an empty edit, a confirmation alone, unknown fields, kind and mode, and urls that are not http(s)', () => {
    for (const body of [{}, { confirmHostChange: true }, { name: 'x', color: 'red' }, { kind: 'harbor' }, { mode: 'hosted' }, { url: 'ftp://r.example' }, { url: 'not a url' }, { url: `https://r.example/${'a'.repeat(2048)}` }, { name: '  ' }, { credentials: { username: 'admin' } }, { insecure: 'yes' }])
      expect(UpdateRegistryInput.safeParse(body).success, JSON.stringify(body)).toBe(false);
  });
});
