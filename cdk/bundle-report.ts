import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildStacks } from './build.ts';
import { BUNDLE_BUDGET_BYTES, bundleReports, kb } from './bundles.ts';
import { PROJECT_ROOT } from './constructs/service-function.ts';
import { readDeploySettings, stageName } from './settings.ts';

/**
 * `npm run bundle-report`: bundles every function as `cdk synth` does (plus esbuild's metafile) and prints each
 * bundle's minified size and what fills it. Exits 1 when one is over the budget. Unchanged functions are not
 * bundled again (cdk.out/bundles is keyed by the sources).
 */
const started = performance.now();
const outdir = join(PROJECT_ROOT, 'cdk.out', 'bundles');
// Bundles do not depend on these; any valid values do.
const app = new App({ outdir, context: { stage: 'report', oidcIssuer: 'https://issuer.invalid/', oidcAudience: 'bundle-report' } });
const settings = readDeploySettings((k) => app.node.tryGetContext(k));
const { service } = buildStacks(app, settings, { bundleMetafile: true, nag: false });
app.synth();
const reports = bundleReports(service, outdir, stageName(settings));

const rows = reports.map((r) => [r.fn, kb(r.bytes), kb(r.mapBytes), r.top.slice(0, 3).map((t) => `${t.input} ${kb(t.bytes)}`).join(', ')]);
const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0), 10));
const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)) : c)).join('  ');
console.log(line(['function', 'minified', 'source map', 'largest inputs']));
for (const row of rows) console.log(line(row));
const over = reports.filter((r) => r.bytes > BUNDLE_BUDGET_BYTES);
const withSdk = reports.filter((r) => r.awsSdkInputs.length);
console.log(
  `\n${reports.length} bundles, largest ${kb(reports[0]?.bytes ?? 0)}, budget ${kb(BUNDLE_BUDGET_BYTES)}; ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
for (const r of over) console.error(`OVER BUDGET: ${r.fn} ${kb(r.bytes)} — largest input ${r.top[0]?.input} (a zod import as \`{ z }\` pulls all of zod: use \`import * as z from 'zod'\`)`);
for (const r of withSdk) console.error(`AWS SDK BUNDLED: ${r.fn} (${r.awsSdkInputs.length} inputs): the runtime provides @aws-sdk/*`);
process.exitCode = over.length || withSdk.length ? 1 : 0;
