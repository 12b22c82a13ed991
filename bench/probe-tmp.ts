import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signJwt } from '../shared/local/jwt.ts';
import { startRuntime } from '../shared/local/runtime.ts';
import { logger } from '../shared/logger.ts';
import { mapLimit } from '../shared/registries/pool.ts';

logger.setLogLevel('CRITICAL');
const N = Number(process.env.N ?? 4000);
const LANES = 4;
const rt = await startRuntime({ port: 0, dataDir: mkdtempSync(join(tmpdir(), 'probe-')), jwtSecret: 'bench-secret-0123456789abcdef' });
const admin = signJwt({ sub: 'bench', roles: ['platform-admin'] }, rt.jwtSecret);
const api = async (method: string, path: string, body: unknown, auth: string) => {
  const res = await fetch(`${rt.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(body) });
  const t = await res.text();
  if (res.status >= 300) throw new Error(`${path} ${res.status} ${t}`);
  return JSON.parse(t);
};
const regs: { id: string; secret: string }[] = [];
for (let l = 0; l < LANES; l++) {
  const r = await api('POST', '/api/v1/registries', { name: `dr${l}`, kind: 'docker-registry', mode: 'integrated', url: `http://127.0.0.${l + 1}:9` }, `Bearer ${admin}`);
  regs.push({ id: r.id, secret: r.webhook.secret });
}
await rt.bus.idle();
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const ev = (i: number) => ({ id: `e${i}`, timestamp: new Date(1_760_000_000_000 + i).toISOString(), action: 'push', target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest(i), repository: `team-${i % 20}/app-${i}`, tag: '1.0' } });
const t0 = performance.now();
const per = Array.from({ length: LANES }, (_, l) => Array.from({ length: N / LANES }, (_, k) => k * LANES + l));
await mapLimit(per, LANES, async (ids, l) => {
  for (let b = 0; b < ids.length; b += 100) await api('POST', `/webhooks/distribution/${regs[l]!.id}`, { events: ids.slice(b, b + 100).map(ev) }, `Bearer ${regs[l]!.secret}`);
});
const accepted = performance.now() - t0;
await rt.bus.idle();
const done = performance.now() - t0;
console.log(`N=${N} accepted ${(accepted / 1000).toFixed(1)} s, idle ${(done / 1000).toFixed(1)} s, ${(N / (done / 1000)).toFixed(0)} ev/s`);
const st = rt.deps.store;
const time = async (name: string, f: () => Promise<unknown>) => { const t = performance.now(); for (let i = 0; i < 50; i++) await f(); console.log(name, ((performance.now() - t) / 50).toFixed(2), 'ms'); };
await time('pending.oldest', () => st.pending.oldest());
await time('index.page public (cached)', () => st.index.page('public', undefined, 51));
await time('namespace get', () => st.registries.list());
await rt.close();
