import { randomUUID } from 'node:crypto';
import { reconcileRegistry, type ReconcileProgress } from '../shared/usecases/reconcile.ts';
import { openEmbedded } from './embedded.ts';
import { progressBar } from './progress.ts';

const LABELS: Record<ReconcileProgress['phase'], string> = { repositories: 'repositories', tags: 'tags', compare: 'compare', apply: 'apply' };

/** `npm run sync -- <registryId>`: reconciles one registry of DATA_DIR now, with a progress bar, and waits for the index. */
const registryId = process.argv[2];
const runtime = await openEmbedded();
let failed = false;
try {
  const registry = registryId ? await runtime.deps.store.registries.get(registryId) : undefined;
  if (!registry) {
    const known = (await runtime.deps.store.registries.list()).map((r) => `  ${r.id}  ${r.kind}  ${r.url}`);
    console.error(`${registryId ? `no registry ${registryId}` : 'usage: npm run sync -- <registryId>'}\nregistries in this DATA_DIR:\n${known.join('\n') || '  (none)'}`);
    failed = true;
  } else {
    const bar = progressBar();
    const report = await reconcileRegistry(registry, runtime.deps, { correlationId: `cli-sync-${randomUUID()}`, actor: 'cli-sync' }, { onProgress: (p) => bar.update(LABELS[p.phase], p.done, p.total) });
    bar.end();
    process.stderr.write('indexing ...');
    await runtime.bus.idle();
    process.stderr.write(' done\n');
    console.log(JSON.stringify(report, null, 2));
    failed = report.status !== 'healthy';
  }
} finally {
  await runtime.close();
}
process.exit(failed ? 1 : 0);
