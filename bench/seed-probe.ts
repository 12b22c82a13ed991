import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signJwt } from '../shared/local/jwt.ts';
import { startRuntime } from '../shared/local/runtime.ts';
import { logger } from '../shared/logger.ts';
import { mapLimit } from '../shared/registries/pool.ts';

import { DynamoDBDocumentClient as DynamoDBClient } from '@aws-sdk/lib-dynamodb';
const calls = new Map<string, number>(); let items = 0;
const orig = DynamoDBClient.prototype.send;
(DynamoDBClient.prototype as any).send = function (cmd: any, ...rest: any[]) { const i = cmd.input ?? {}; const pk = String(i.Key?.pk ?? i.Item?.pk ?? (i.KeyConditionExpression ? Object.values(i.ExpressionAttributeValues ?? {})[0] : '') ?? ''); const n = `${cmd.constructor.name} ${i.IndexName ?? ''} ${pk.split('#')[0]} ${String(i.Key?.sk ?? i.Item?.sk ?? '').split('#')[0]} ${i.UpdateExpression?.slice(0, 30) ?? ''}`; calls.set(n, (calls.get(n) ?? 0) + 1); if (n === 'BatchWriteItemCommand') for (const v of Object.values(cmd.input.RequestItems ?? {})) items += (v as any[]).length; return (orig as any).call(this, cmd, ...rest); };
const N = Number(process.argv[2] ?? 2000);
const LANES = 4;
logger.setLogLevel((process.env.LVL ?? 'CRITICAL') as never);
const dataDir = mkdtempSync(join(tmpdir(), 'probe-'));
const rt = await startRuntime({ port: 0, dataDir, jwtSecret: 'bench-secret-0123456789abcdef' });
const counts = new Map<string, number>();
const db = (rt.deps.store as any);
const admin = signJwt({ sub: 'bench', roles: ['platform-admin'] }, rt.jwtSecret);
const api = async (method: string, path: string, body: unknown, auth = `Bearer ${admin}`) => {
  const res = await fetch(`${rt.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(body) });
  const t = await res.text();
  if (res.status >= 300) throw new Error(`${path} ${res.status} ${t}`);
  return JSON.parse(t || '{}');
};
const regs: any[] = [];
for (let l = 0; l < LANES; l++) regs.push(await api('POST', '/api/v1/registries', { name: `dr${l}`, kind: 'docker-registry', mode: 'integrated', url: `http://127.0.0.${l + 1}:9` }));
await rt.bus.idle();
const { counters } = await import('../shared/store/table.ts') as any;
calls.clear(); items = 0;
const put = rt.deps.bus.put.bind(rt.deps.bus); const ec = new Map<string, number>(); (rt.deps.bus as any).put = (es: any[]) => { for (const e of es) ec.set(e.detailType, (ec.get(e.detailType) ?? 0) + 1); return put(es); };
const t0 = performance.now();
const pad = (n: number) => String(n).padStart(5, '0');
const batches: number[][] = [];
for (let b = 0; b < N / 100; b++) batches.push(Array.from({ length: 100 }, (_, j) => b * 100 + j));
await mapLimit([0, 1, 2, 3], 4, async (lane) => {
  for (const b of batches) {
    const mine = b.filter((i) => i % LANES === lane);
    await api('POST', `/webhooks/distribution/${regs[lane].id}`, { events: mine.map((i) => ({ id: `s-${i}`, timestamp: new Date(1_760_000_000_000 + i).toISOString(), action: 'push', target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${i.toString(16).padStart(64, '0')}`, repository: `team-${i % 20}/app-${pad(i)}`, tag: '1.0' } })) }, `Bearer ${regs[lane].webhook.secret}`);
  }
});
const accepted = (performance.now() - t0) / 1000;
await rt.bus.idle();
const done = (performance.now() - t0) / 1000;
console.log(`N=${N} accepted ${accepted.toFixed(1)}s (${(N / accepted).toFixed(0)}/s) idle ${done.toFixed(1)}s (${(N / done).toFixed(0)}/s)`);
console.log([...calls].map(([k, v]) => `${k} ${(v / N).toFixed(2)}/event`).join('\n'), `\nbatch items ${(items / N).toFixed(2)}/event`);
console.log([...ec]);
await rt.close();
rmSync(dataDir, { recursive: true, force: true });
