import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemovalPolicy, Stack, type Duration } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config.ts';
import { TABLE_DEFINITION } from '../../shared/store/schema.ts';
import type { SecretAction } from '../access.ts';
import { acknowledgeSecretPrefix } from '../nag.ts';
import type { RegistrySecrets } from './registry-secrets.ts';

/** The repository root: entries are `functions/<fn>/handler.ts` under it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The DynamoDB actions of each access level: exactly the commands `shared/store/table.ts` sends. */
export const TABLE_ACTIONS = {
  read: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
  write: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
} as const;

/**
 * esbuild settings of every function. The AWS SDK v3 stays out of the bundle: the nodejs22.x runtime ships
 * it (and this keeps each bundle far below the 400 KB budget; bundling it adds ~400 KB of SDK per function).
 */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  keepNames: true,
  externalModules: ['@aws-sdk/*'],
  // Never Docker: esbuild from node_modules, so synth works on machines without a container runtime.
  forceDockerBundling: false,
} as const;

export type ServiceFunctionProps = {
  /** The folder under `functions/`; the Lambda's name is `<namePrefix>-<fn>`. */
  fn: string;
  namePrefix: string;
  timeout: Duration;
  memorySize?: number;
  logRetention: RetentionDays;
  /** Settings every function reads (`shared/config.ts`) that no binder owns, e.g. PUBLIC_URL. */
  environment: Partial<Record<keyof Config, string>>;
  /**
   * Free identifiers replaced at bundle time by string values (esbuild `inject`: no size limit, unlike `define`).
   * Computed only when this stack is bundled.
   */
  embed?: () => Record<string, string>;
  /** Reserved concurrency (1 for the targets of serial rules, see `Rule.serial`). */
  reservedConcurrency?: number;
  /** Keep esbuild's metafile next to the bundle (bundle-size checks; off for deploys, it would ship in the zip). */
  metafile?: boolean;
};

type ConfigKey = keyof Config;

/**
 * The house Lambda: Node 22 on ARM64, bundled by the local esbuild as minified ESM with source maps and kept
 * names, its own log group with retention, a role with no managed policy, Powertools settings. Access comes
 * only from the binders, and each binder grants and sets the env var that names what it granted, together.
 */
export class ServiceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly fn: string;
  private readonly bound = new Set<ConfigKey>();

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    this.fn = props.fn;
    const functionName = `${props.namePrefix}-${props.fn}`;
    const logGroup = (this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    }));
    // Our own role: the managed AWSLambdaBasicExecutionRole would allow writing to every log group.
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    );

    const embedded = props.embed && Stack.of(this).bundlingRequired ? writeEmbedModule(props.fn, props.embed()) : undefined;
    this.function = new NodejsFunction(this, 'Function', {
      functionName,
      entry: join(PROJECT_ROOT, 'functions', props.fn, 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      ...(props.reservedConcurrency ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      role: this.role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      // No START/END/REPORT lines: at 1k requests/s they cost ~$450 a month; duration, errors and throttles are metrics.
      systemLogLevelV2: SystemLogLevel.WARN,
      bundling: {
        ...BUNDLING,
        mainFields: [...BUNDLING.mainFields],
        externalModules: [...BUNDLING.externalModules],
        metafile: props.metafile ?? false,
        ...(embedded ? { inject: [embedded.file] } : {}),
        // Keyed by everything that goes into the bundle: an unchanged function is not bundled again into the same cdk.out.
        assetHash: hashOf(sourceFingerprint(), props.fn, String(props.metafile ?? false), embedded?.source ?? ''),
      },
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'image-registry',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // Request bodies carry registry credentials and webhook secrets: events are never logged.
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
      },
    });
    // The policy must exist before the function is created, or its first cold start may lack access.
    this.function.node.addDependency(this.role);
  }

  /** GetItem/BatchGetItem/Query (read) or also Put/Update/Delete/BatchWrite (write), on the table and its GSIs by name. */
  bindTable(table: Table, access: 'read' | 'write') {
    const indexArns = TABLE_DEFINITION.globalSecondaryIndexes.map((g) => `${table.tableArn}/index/${g.name}`);
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...TABLE_ACTIONS[access]], resources: [table.tableArn] }));
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: indexArns }));
    this.setEnv('TABLE_NAME', table.tableName);
    return this;
  }

  /** PutEvents on this bus only. */
  bindBus(bus: IEventBus) {
    bus.grantPutEventsTo(this.function);
    this.setEnv('BUS_KIND', 'eventbridge');
    this.setEnv('EVENT_BUS_NAME', bus.eventBusName);
    return this;
  }

  /** The given Secrets Manager actions on the registry secrets' prefix. */
  bindSecret(secrets: RegistrySecrets, actions: readonly SecretAction[]) {
    secrets.grant(this.function, actions);
    acknowledgeSecretPrefix(this.role, secrets.arnPattern);
    this.setEnv('SECRETS_KIND', 'secrets-manager');
    this.setEnv('SECRETS_PREFIX', secrets.prefix);
    return this;
  }

  /**
   * `readConfig` demands TABLE_NAME and EVENT_BUS_NAME at every cold start, also of functions that may not
   * touch them (e.g. /health, or a reader and the bus). Those learn the name and get no grant.
   */
  nameUnbound(names: Partial<Record<ConfigKey, string>>) {
    for (const [key, value] of Object.entries(names) as [ConfigKey, string][]) if (!this.bound.has(key)) this.function.addEnvironment(key, value);
    return this;
  }

  private setEnv(key: ConfigKey, value: string) {
    this.bound.add(key);
    this.function.addEnvironment(key, value);
  }
}

/** An ES module exporting each identifier; esbuild's `inject` substitutes its free references. */
const writeEmbedModule = (fn: string, values: Record<string, string>) => {
  const source = Object.entries(values)
    .map(([name, value]) => {
      if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`${name} is not an identifier`);
      return `export const ${name} = ${JSON.stringify(value)};`;
    })
    .join('\n');
  const dir = join(tmpdir(), 'image-registry-embeds');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${fn}-${hashOf(source).slice(0, 16)}.mjs`);
  writeFileSync(file, source);
  return { file, source };
};

const hashOf = (...parts: string[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
};

/** What every bundle is built from: the runtime sources, the installed dependencies and these bundling settings. */
const BUNDLE_INPUTS = ['functions', 'shared', 'events', 'web', 'package-lock.json', 'node_modules/.package-lock.json', 'tsconfig.json', 'cdk/constructs/service-function.ts'];

let fingerprint: string | undefined;
const sourceFingerprint = () => {
  if (fingerprint) return fingerprint;
  const hash = createHash('sha256');
  const visit = (relative: string) => {
    const entries = readdirSync(join(PROJECT_ROOT, relative), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const child = join(relative, entry.name);
      if (entry.isDirectory()) visit(child);
      else if (entry.isFile()) hash.update(child).update('\0').update(readFileSync(join(PROJECT_ROOT, child))).update('\0');
    }
  };
  for (const input of BUNDLE_INPUTS) {
    const path = join(PROJECT_ROOT, input);
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) visit(input);
    else hash.update(input).update('\0').update(readFileSync(path)).update('\0');
  }
  return (fingerprint = hash.digest('hex'));
};
