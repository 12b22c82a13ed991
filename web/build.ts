import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, buildSync, type BuildOptions, type OutputFile } from 'esbuild';
import type { UiAssets } from './assets.ts';

const SRC = fileURLToPath(new URL('./src/', import.meta.url));

/** The page's TypeScript (and the CSS it imports) in one bundle each, for current browsers; no source maps. */
const OPTIONS = {
  entryPoints: { app: `${SRC}main.ts` },
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome111', 'firefox115', 'safari16.4'],
  legalComments: 'none',
  write: false,
  outdir: 'ui',
  logLevel: 'silent',
} satisfies BuildOptions;

const assemble = (files: OutputFile[]): UiAssets => {
  const text = (ext: string) => {
    const file = files.find((f) => f.path.endsWith(`app.${ext}`));
    if (!file) throw new Error(`the UI build produced no app.${ext}`);
    return file.text;
  };
  const js = text('js');
  const css = text('css');
  const version = createHash('sha256').update(js).update(css).digest('hex').slice(0, 12);
  const html = readFileSync(`${SRC}index.html`, 'utf8').replaceAll('{{version}}', version);
  return {
    version,
    files: {
      'index.html': { contentType: 'text/html; charset=utf-8', text: html },
      'app.js': { contentType: 'text/javascript; charset=utf-8', text: js },
      'app.css': { contentType: 'text/css; charset=utf-8', text: css },
    },
  };
};

/** Builds the deploy UI with esbuild's API (local runtime: at the first request). */
export const buildUi = async (): Promise<UiAssets> => assemble((await build(OPTIONS)).outputFiles);

/**
 * The same, synchronously: for the CDK app, which embeds `JSON.stringify(buildUiSync())` into the `get-ui`
 * bundle as the free identifier `__DEPLOY_UI_ASSETS__` (cdk/access.ts, esbuild `inject`).
 */
export const buildUiSync = (): UiAssets => assemble(buildSync(OPTIONS).outputFiles);
