import * as z from 'zod';
import { notFound } from '../shared/errors.ts';
import { logger } from '../shared/logger.ts';

export const UiAssets = z.object({
  version: z.string(),
  files: z.record(z.string(), z.object({ contentType: z.string(), text: z.string() })),
});
export type UiAssets = z.infer<typeof UiAssets>;

/** `/` (the page) or `/ui/{asset}`; `v` is the content hash the page links with (cache busting). */
export const UiPath = z.object({ asset: z.string().regex(/^[a-z0-9-]+\.(?:js|css)$/, 'is not a UI asset').optional() });
export const UiQuery = z.object({ v: z.string().max(64).optional() });

/** The built page as JSON, embedded by the CDK bundle step (cdk/access.ts, esbuild `inject`); absent when run from source. */
declare const __DEPLOY_UI_ASSETS__: string | undefined;

// Not a literal: a bundler must not pull esbuild (a build tool with a native binary) into a Lambda.
const BUILDER = './build.ts';

let assets: Promise<UiAssets> | undefined;

const load = async (): Promise<UiAssets> => {
  if (typeof __DEPLOY_UI_ASSETS__ === 'string') return UiAssets.parse(JSON.parse(__DEPLOY_UI_ASSETS__));
  const builder: { buildUi: () => Promise<UiAssets> } = await import(BUILDER);
  const started = performance.now();
  const built = await builder.buildUi();
  logger.info('deploy UI built', { ms: Math.round(performance.now() - started), version: built.version });
  return built;
};

/** The built page: embedded at bundle time, or built once from `web/src` with esbuild (local runtime). */
export const uiAssets = (): Promise<UiAssets> => {
  if (!assets) {
    assets = load();
    // A failed build is retried by the next request rather than cached.
    assets.catch(() => (assets = undefined));
  }
  return assets;
};

/**
 * Same-origin only: the page talks to this API and nothing else, loads no third-party code, and is never framed.
 * `'unsafe-inline'` is never needed: scripts and styles are files; the DOM is built with `textContent`.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * One file of the deploy UI: the page (`/`, never cached) or an asset (`/ui/app.js?v=<version>`, cached for a
 * year when the version matches, since the version is the content hash).
 */
export const uiFile = async (asset: string | undefined, version: string | undefined) => {
  const built = await uiAssets();
  const name = asset ?? 'index.html';
  const file = asset !== 'index.html' && Object.hasOwn(built.files, name) ? built.files[name] : undefined;
  if (!file) throw notFound(`no UI asset ${name}`);
  const immutable = asset !== undefined && version === built.version;
  return {
    status: 200,
    text: file.text,
    contentType: file.contentType,
    headers: { 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache', ...SECURITY_HEADERS },
  };
};
