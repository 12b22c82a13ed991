import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildStacks } from '../../cdk/build.ts';
import { PROJECT_ROOT } from '../../cdk/constructs/service-function.ts';
import { readDeploySettings } from '../../cdk/settings.ts';

export const TEST_CONTEXT = { stage: 'test', oidcIssuer: 'https://issuer.example.com/realms/platform', oidcAudience: 'image-registry,deploy-ui' };

let scratch: string | undefined;
/** A throwaway cloud assembly directory, removed when the test process exits. */
const scratchOutdir = () => {
  if (!scratch) {
    const dir = mkdtempSync(join(tmpdir(), 'image-registry-cdk-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  return mkdtempSync(join(scratch, 'app-'));
};

/** The feature flags `cdk synth` reads from cdk.json, so tests assert on the templates the CLI produces. */
const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/**
 * The app as `cdk synth` builds it, for assertions. `bundle: false` skips esbuild (CDK's
 * `aws:cdk:bundling-stacks` = []): templates are identical but for asset hashes, in a second instead of a minute.
 */
export const synthApp = (opts: { bundle?: boolean; nag?: boolean; context?: Record<string, string>; outdir?: string; cfnValidation?: boolean } = {}) => {
  const app = new App({
    outdir: opts.outdir ?? scratchOutdir(),
    context: { ...CDK_JSON_CONTEXT, ...TEST_CONTEXT, ...opts.context, ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    // CDK's own schema check of the templates costs ~9 s per process; `cdk synth` and the nag test keep it.
    builtinCloudFormationValidation: opts.cfnValidation ?? false,
  });
  const settings = readDeploySettings((k) => app.node.tryGetContext(k));
  const stacks = buildStacks(app, settings, { bundleMetafile: opts.bundle, nag: opts.nag ?? false });
  return { app, settings, ...stacks };
};

export const templatesOf = (built: ReturnType<typeof synthApp>) => ({
  data: Template.fromStack(built.data),
  service: Template.fromStack(built.service),
});

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string };

/** The resources of one type in a template, by logical id. */
export const resourcesOf = (template: Template, type: string) => template.findResources(type) as Record<string, Resource>;

/** The one resource of a type whose properties match `where` (partial, by JSON value), or a failure naming it. */
export const only = (template: Template, type: string, where: (r: Resource) => boolean, what: string) => {
  const found = Object.entries(resourcesOf(template, type)).filter(([, r]) => where(r));
  if (found.length !== 1) throw new Error(`expected exactly one ${type} for ${what}, found ${found.length}`);
  const [hit] = found;
  if (!hit) throw new Error('unreachable');
  return { logicalId: hit[0], resource: hit[1] };
};

/** A policy document's statements as sorted `Effect action on resource` strings, resources as JSON. */
export const statementPairs = (statements: unknown) => {
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]);
  const pairs: { effect: string; action: string; resource: string }[] = [];
  for (const s of list(statements) as { Effect: string; Action: unknown; Resource: unknown }[])
    for (const action of list(s.Action) as string[]) for (const resource of list(s.Resource)) pairs.push({ effect: s.Effect, action, resource: JSON.stringify(resource) });
  return pairs;
};
