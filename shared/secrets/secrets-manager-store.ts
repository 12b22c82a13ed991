import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretStore } from './secret-store.ts';

/** AWS: one secret per registry under `prefix/`; the reference is the secret's ARN. */
export const createSecretsManagerStore = (client: SecretsManagerClient, prefix: string): SecretStore => ({
  async seal(name, value) {
    const out = await client.send(new CreateSecretCommand({ Name: `${prefix}/${name}`, SecretString: value }));
    if (!out.ARN) throw new Error('Secrets Manager returned no ARN');
    return out.ARN;
  },
  async open(ref) {
    const out = await client.send(new GetSecretValueCommand({ SecretId: ref }));
    if (out.SecretString === undefined) throw new Error(`secret ${ref} has no string value`);
    return out.SecretString;
  },
  async remove(ref) {
    await client.send(new DeleteSecretCommand({ SecretId: ref, RecoveryWindowInDays: 7 }));
  },
});
