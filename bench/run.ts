import { parseArgs } from 'node:util';
import { runCapacityBench } from './capacity.ts';
import { runPullAccessBench } from './pull-access.ts';
import { runRegistryBench } from './registries.ts';
import { runScaleBench } from './scale.ts';
import { runSelectorBench } from './selector.ts';

/**
 * `npm run bench`: prints the numbers the closing notes quote. Not a test: nothing here asserts a time.
 * `BENCH_ONLY=selector|registries|pull-access|scale` runs one part; the registry part needs docker-registry and skopeo.
 * `npm run bench -- --scale 200,2000,20000` runs only the scale part, once per size (the default run scales to 200).
 * `npm run bench -- --capacity` runs only the capacity table of docs/scale.md (DynamoDB Local).
 */
const log = (line: string) => console.log(`[bench] ${line}`);
const only = process.env.BENCH_ONLY;
const { scale, capacity } = parseArgs({ options: { scale: { type: 'string' }, capacity: { type: 'boolean' } } }).values;
const sizes = scale?.split(',').map(Number);
if (sizes?.some((n) => !Number.isInteger(n) || n < 10)) throw new Error(`--scale ${scale}: sizes are whole numbers of at least 10, comma separated`);
log(`node ${process.version}, ${new Date().toISOString()}`);
if (capacity) await runCapacityBench(log);
else if (sizes) await runScaleBench(sizes, log);
else {
  if (!only || only === 'selector') await runSelectorBench(log);
  if (!only || only === 'registries') await runRegistryBench(log);
  if (!only || only === 'pull-access') await runPullAccessBench(log);
  if (!only || only === 'scale') await runScaleBench([200], log);
}
