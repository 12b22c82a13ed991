import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { startRuntime } from '../../shared/local/runtime.ts';

/**
 * The service under fuzz, in its own process: the embedded runtime exactly as `npm start` runs it (same handlers,
 * bus, schedules and local server), with the store in memory so the harness can scan it. Two harness-only routes
 * under `/__fuzz/` (no route of the service starts so): `idle` answers once the bus has delivered everything queued,
 * `logs` hands over (and forgets) what the service logged since the last call. A crash ends this process, as it would
 * end `npm start`: the harness sees the exit.
 */
const Env = z.object({ FUZZ_JWT_SECRET: z.string().min(16) });
const env = Env.parse(process.env);

const MAX_KEPT = 20_000;
const captured: string[] = [];
const readyOut = process.stdout.write.bind(process.stdout);
const crashOut = process.stderr.write.bind(process.stderr);
// What Node does with an uncaught error (print it, exit 1), printed so that the harness can tell one crash from another.
const crash = (error: unknown) => {
  crashOut(`FUZZ_CRASH ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
// The service's logger writes through process.stdout/stderr (a Console over them); the harness reads it over HTTP,
// so its lines can be tied to the request that caused them.
const capture = (chunk: unknown, ...rest: unknown[]) => {
  captured.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
  if (captured.length > MAX_KEPT) captured.splice(0, captured.length - MAX_KEPT);
  const done = rest.find((r) => typeof r === 'function');
  if (typeof done === 'function') done();
  return true;
};
process.stdout.write = capture as typeof process.stdout.write;
process.stderr.write = capture as typeof process.stderr.write;

const dataDir = mkdtempSync(join(tmpdir(), 'image-registry-fuzz-'));
let runtime: Awaited<ReturnType<typeof startRuntime>> | undefined;

const extra = async (req: IncomingMessage, res: ServerResponse) => {
  if (!req.url?.startsWith('/__fuzz/')) return false;
  if (req.url === '/__fuzz/idle') {
    await runtime?.bus.idle();
    res.writeHead(204).end();
  } else if (req.url === '/__fuzz/logs') {
    const lines = captured.splice(0, captured.length);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(lines));
  } else res.writeHead(404).end();
  return true;
};

runtime = await startRuntime({ port: 0, dataDir, inMemory: true, jwtSecret: env.FUZZ_JWT_SECRET, extra });
const ready = { url: runtime.url, storeEndpoint: runtime.storeEndpoint, tableName: runtime.tableName, startedAt: Date.now() };
readyOut(`FUZZ_READY ${JSON.stringify(ready)}\n`);

const stop = async () => {
  await runtime?.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// The harness holds stdin open; when it ends (the harness is gone), so does this process.
process.stdin.on('end', () => void stop());
process.stdin.resume();
