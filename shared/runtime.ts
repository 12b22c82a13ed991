import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { pullAccessOf, readConfig } from './config.ts';
import type { Deps } from './deps.ts';
import { createEventBridgeBus } from './events/eventbridge-bus.ts';
import { egressPolicyFromEnv } from './registries/egress.ts';
import { createHttpRegistryApi } from './registries/registry-api.ts';
import { createLocalSecretStore, loadOrCreateKey } from './secrets/local-secret-store.ts';
import { createSecretsManagerStore } from './secrets/secrets-manager-store.ts';
import { createStore } from './store/index.ts';
import { createDocumentClient } from './store/table.ts';

let provided: Deps | undefined;
let built: Deps | undefined;

/** The embedded runtime hands its own parts (in-process bus, embedded store) to every handler. */
export const provideDeps = (deps: Deps | undefined) => {
  provided = deps;
};

/** The deps of this process, built once per cold start from the environment (AWS), or provided (local). */
export const getDeps = (): Deps => {
  if (provided) return provided;
  if (built) return built;
  const config = readConfig();
  if (config.BUS_KIND === 'local') throw new Error('BUS_KIND=local needs the embedded runtime (npm start)');
  built = {
    store: createStore({ db: createDocumentClient(config.DYNAMODB_ENDPOINT), name: config.TABLE_NAME }),
    bus: createEventBridgeBus(new EventBridgeClient({}), config.EVENT_BUS_NAME ?? ''),
    secrets:
      config.SECRETS_KIND === 'local'
        ? createLocalSecretStore(loadOrCreateKey(config.LOCAL_KEY_FILE ?? ''))
        : createSecretsManagerStore(new SecretsManagerClient({}), config.SECRETS_PREFIX),
    registryApi: createHttpRegistryApi({ policy: egressPolicyFromEnv({ urls: [config.PUBLIC_URL] }) }),
    clock: () => new Date(),
    clockSkewMs: config.CLOCK_SKEW_SECONDS * 1000,
    publicUrl: config.PUBLIC_URL,
    pullAccess: pullAccessOf(config),
    auditTtlDays: config.AUDIT_TTL_DAYS,
  };
  return built;
};
