import * as z from 'zod';
import { formatReport, runFuzz } from './harness.ts';

/**
 * `npm run fuzz`: at least 10,000 generated requests (FUZZ_RUNS) against the running service; FUZZ_SEED replays a
 * run. Prints the counts and every distinct finding with its reproduction; exits 1 unless there is no response
 * ≥ 500, no unanswered request, no crash, no store change by a rejected request and the service is alive.
 */
const Env = z.object({
  FUZZ_RUNS: z.coerce.number().int().min(1).default(10_000),
  FUZZ_SEED: z.coerce.number().int().optional(),
  FUZZ_SHRINK_RUNS: z.coerce.number().int().min(0).default(200),
});
const env = Env.parse(process.env);

const report = await runFuzz({ runs: env.FUZZ_RUNS, seed: env.FUZZ_SEED, shrinkRuns: env.FUZZ_SHRINK_RUNS, log: (line) => console.log(line) });
console.log(formatReport(report));
const ok = report.atLeast500 === 0 && report.noAnswer === 0 && report.crashes === 0 && report.rejectedChangedStore === 0 && report.alive;
console.log(ok ? 'fuzz: passed' : 'fuzz: FAILED');
process.exitCode = ok ? 0 : 1;
