import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** Every function's minified bundle must stay at or below this (the issue's budget), source map excluded. */
export const BUNDLE_BUDGET_BYTES = 400 * 1000;

export type BundleReport = {
  fn: string;
  /** The asset directory: index.mjs, index.mjs.map, index.meta.json. */
  dir: string;
  /** index.mjs as esbuild's metafile measured it. */
  bytes: number;
  mapBytes: number;
  /** Biggest contributors, by package (or first-party folder). */
  top: { input: string; bytes: number }[];
  /** Inputs from @aws-sdk/* or @smithy/* (must be none: the runtime provides the SDK). */
  awsSdkInputs: string[];
};

type Metafile = { outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }> };

const packageOf = (input: string) =>
  /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? (input.startsWith('../') ? 'embedded (inject)' : (input.split('/')[0] ?? input));

/**
 * Reads each function's esbuild metafile from a synthesized service stack (built with `bundleMetafile`), from the
 * asset directories of the cloud assembly.
 */
export const bundleReports = (service: Stack, outdir: string, namePrefix: string): BundleReport[] => {
  const functions = Template.fromStack(service).findResources('AWS::Lambda::Function') as Record<
    string,
    { Properties: { FunctionName: string; Code: { S3Key: string } } }
  >;
  return Object.values(functions)
    .map(({ Properties }) => {
      const fn = Properties.FunctionName.replace(`${namePrefix}-`, '');
      // The staged asset directory is named after the asset hash, which is also the object key.
      const dir = join(outdir, `asset.${Properties.Code.S3Key.replace(/\.zip$/, '')}`);
      const metafilePath = join(dir, 'index.meta.json');
      if (!existsSync(metafilePath)) throw new Error(`${fn}: no esbuild metafile in ${dir} (synthesize with bundleMetafile)`);
      const metafile = JSON.parse(readFileSync(metafilePath, 'utf8')) as Metafile;
      const [, output] = Object.entries(metafile.outputs).find(([path]) => path.endsWith('index.mjs')) ?? [];
      if (!output) throw new Error(`${fn}: the metafile has no index.mjs output`);
      const byPackage = new Map<string, number>();
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
      const map = Object.entries(metafile.outputs).find(([path]) => path.endsWith('index.mjs.map'))?.[1];
      return {
        fn,
        dir,
        bytes: output.bytes,
        mapBytes: map?.bytes ?? 0,
        top: [...byPackage].map(([input, bytes]) => ({ input, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, 5),
        awsSdkInputs: Object.keys(output.inputs).filter((i) => /node_modules\/@(aws-sdk|smithy)\//.test(i)),
      };
    })
    .sort((a, b) => b.bytes - a.bytes);
};

export const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
