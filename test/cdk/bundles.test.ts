import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EMBEDS } from '../../cdk/access.ts';
import { BUNDLE_BUDGET_BYTES, bundleReports, kb, type BundleReport } from '../../cdk/bundles.ts';
import { PROJECT_ROOT } from '../../cdk/constructs/service-function.ts';
import { FUNCTIONS } from '../../shared/topology.ts';
import { synthApp } from './synth.ts';

const httpEvent = (path: string) => ({
  version: '2.0',
  routeKey: `GET ${path}`,
  rawPath: path,
  rawQueryString: '',
  headers: {},
  isBase64Encoded: false,
  requestContext: { requestId: 'bundle-test', http: { method: 'GET', path }, routeKey: `GET ${path}`, stage: '$default' },
});

/** Every function bundled once, as `cdk synth` does it (cached in cdk.out/bundles, keyed by the sources). */
describe('the Lambda bundles', () => {
  let reports: BundleReport[];

  beforeAll(() => {
    // Under the repo, so the bundles' externals (@aws-sdk/*) resolve from node_modules when loaded.
    const outdir = join(PROJECT_ROOT, 'cdk.out', 'bundles');
    const { app, service } = synthApp({ bundle: true, outdir });
    app.synth();
    reports = bundleReports(service, outdir, 'image-registry-test');
  }, 300_000);

  it('bundles every function of the topology once', () => {
    expect(reports.map((r) => r.fn).sort()).toEqual([...FUNCTIONS].sort());
  });

  it(`keeps every bundle at or below ${kb(BUNDLE_BUDGET_BYTES)} minified, measured by esbuild's metafile`, () => {
    const over = reports.filter((r) => r.bytes > BUNDLE_BUDGET_BYTES).map((r) => `${r.fn} ${kb(r.bytes)}: ${r.top.map((t) => `${t.input} ${kb(t.bytes)}`).join(', ')}`);
    // The usual cause: `import { z } from 'zod'` keeps all of zod (~470 KB, every locale); `import * as z from 'zod'` shakes.
    expect(over).toEqual([]);
  });

  it('leaves the AWS SDK to the Node 22 runtime instead of bundling it', () => {
    for (const r of reports) {
      expect(r.awsSdkInputs, r.fn).toEqual([]);
      expect(readFileSync(join(r.dir, 'index.mjs'), 'utf8'), r.fn).toMatch(/from"@aws-sdk\/client-dynamodb"/);
    }
  });

  it('ships minified ESM with an external source map and no sources inside it', () => {
    for (const r of reports) {
      const code = readFileSync(join(r.dir, 'index.mjs'), 'utf8');
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map'), r.fn).toBe(true);
      // Minified: long lines (esbuild keeps newlines only inside template literals, e.g. embedded assets).
      expect(code.length / code.split('\n').length, r.fn).toBeGreaterThan(2000);
      const map = JSON.parse(readFileSync(join(r.dir, 'index.mjs.map'), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
      expect(map.sourcesContent, r.fn).toBeUndefined();
      expect(map.sources.some((s) => s.includes(`functions/${r.fn}/handler.ts`)), r.fn).toBe(true);
    }
  });

  it('loads every bundle on plain Node as an ES module exporting the handler, and answers from the bundle alone', () => {
    // A separate node process: no test runner between the bundle and Node's own ESM loader, as on Lambda.
    const script = `
      import { pathToFileURL } from 'node:url';
      const [bundles, invocations] = JSON.parse(process.argv[1]);
      const out = { handlers: {}, answers: {} };
      for (const [fn, file] of Object.entries(bundles)) out.handlers[fn] = typeof (await import(pathToFileURL(file).href)).handler;
      for (const [fn, event] of invocations) {
        const { handler } = await import(pathToFileURL(bundles[fn]).href);
        const r = await handler(event, { awsRequestId: 'bundle-test' });
        out.answers[fn] = { statusCode: r.statusCode, contentType: r.headers?.['content-type'], body: r.body.slice(0, 200) };
      }
      process.stdout.write(JSON.stringify(out));`;
    const embedding = Object.keys(EMBEDS).filter((fn) => FUNCTIONS.includes(fn));
    const invocations = [['get-health', httpEvent('/health')], ...embedding.map((fn) => [fn, httpEvent('/')])];
    const bundles = Object.fromEntries(reports.map((r) => [r.fn, join(r.dir, 'index.mjs')]));
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify([bundles, invocations])], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      // The environment the stack gives every function (resource names are stand-ins: nothing is called).
      env: { PATH: process.env.PATH, TABLE_NAME: 'bundle-test', EVENT_BUS_NAME: 'bundle-test', PUBLIC_URL: 'https://api.example.com', AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { handlers: Record<string, string>; answers: Record<string, { statusCode: number; contentType?: string; body: string }> };
    expect(out.handlers).toEqual(Object.fromEntries(reports.map((r) => [r.fn, 'function'])));
    expect(out.answers['get-health']).toMatchObject({ statusCode: 200, body: '{"status":"ok"}' });
    for (const fn of embedding) expect(out.answers[fn], fn).toMatchObject({ statusCode: 200, contentType: expect.stringMatching(/text\/html/) });
  });
});
