import { Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { DeploySettings } from './settings.ts';
import { DataStack } from './stacks/data-stack.ts';
import { ServiceStack } from './stacks/service-stack.ts';

export type BuildOptions = {
  env?: Environment;
  /** Keep esbuild's metafile beside each bundle (bundle-size checks; never for deploys). */
  bundleMetafile?: boolean;
  /** cdk-nag's AwsSolutions pack; on in the app, so `cdk synth` fails on any unsuppressed error. */
  nag?: boolean;
};

/** Both stacks of one stage: `ImageRegistry-<stage>-Data` (stateful) and `ImageRegistry-<stage>-Service`. */
export const buildStacks = (app: App, settings: DeploySettings, options: BuildOptions = {}) => {
  const id = `ImageRegistry-${settings.stage}`;
  const data = new DataStack(app, `${id}-Data`, {
    env: options.env,
    settings,
    terminationProtection: true,
    description: `Image registry ${settings.stage}: table, event bus, registry secrets (stateful)`,
  });
  const service = new ServiceStack(app, `${id}-Service`, {
    env: options.env,
    settings,
    data,
    bundleMetafile: options.bundleMetafile,
    description: `Image registry ${settings.stage}: functions, HTTP API, bus rules, schedules, alarms`,
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { data, service };
};
