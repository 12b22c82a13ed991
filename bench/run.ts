import { runPullAccessBench } from './pull-access.ts';
import { runRegistryBench } from './registries.ts';
import { runSelectorBench } from './selector.ts';

/**
 * `npm run bench`: prints the numbers the closing notes quote. Not a test: nothing here asserts a time.
 * `BENCH_ONLY=selector|registries|pull-access` runs one part; the registry part needs docker-registry and skopeo.
 */
const log = (line: string) => console.log(`[bench] ${line}`);
const only = process.env.BENCH_ONLY;
log(`node ${process.version}, ${new Date().toISOString()}`);
if (!only || only === 'selector') await runSelectorBench(log);
if (!only || only === 'registries') await runRegistryBench(log);
if (!only || only === 'pull-access') await runPullAccessBench(log);
