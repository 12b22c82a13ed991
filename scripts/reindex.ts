import { reindexAll } from '../shared/usecases/reindex.ts';
import { openEmbedded } from './embedded.ts';
import { progressBar } from './progress.ts';

/** `npm run reindex`: rebuilds every audience of the index in DATA_DIR from the truth and prints the drift it fixed. */
const runtime = await openEmbedded();
try {
  const bar = progressBar();
  const { drift, durationMs } = await reindexAll(runtime.deps, (p) => bar.update(p.phase, p.done, p.total));
  bar.end();
  console.log(`reindex done in ${durationMs} ms: drift ${drift}${drift ? ' (found and fixed)' : ''}`);
} finally {
  await runtime.close();
}
