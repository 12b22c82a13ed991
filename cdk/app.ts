import { App } from 'aws-cdk-lib';
import { buildStacks } from './build.ts';
import { readDeploySettings } from './settings.ts';

const app = new App();
const settings = readDeploySettings((key) => app.node.tryGetContext(key));
buildStacks(app, settings, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  bundleMetafile: app.node.tryGetContext('bundleMetafile') === 'true',
});
