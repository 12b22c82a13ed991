import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { SecretAction } from '../access.ts';

/** The one Secrets Manager action behind each secret-store operation (`shared/secrets/secrets-manager-store.ts`). */
export const SECRET_ACTIONS: Record<SecretAction, string> = {
  read: 'secretsmanager:GetSecretValue',
  create: 'secretsmanager:CreateSecret',
  delete: 'secretsmanager:DeleteSecret',
};

/**
 * Where registry credentials live: one Secrets Manager secret per registry, created at run time by
 * `shared/secrets/secrets-manager-store.ts` under `<prefix>/<registryId>`. Nothing exists at deploy time, so
 * the construct owns the name prefix and grants by it; the table only ever holds the secret's ARN.
 */
export class RegistrySecrets extends Construct {
  /** `SECRETS_PREFIX` of the functions: `image-registry/<stage>`. */
  readonly prefix: string;
  /** Every secret under the prefix (Secrets Manager appends a random 6-character suffix to each ARN). */
  readonly arnPattern: string;

  constructor(scope: Construct, id: string, props: { prefix: string }) {
    super(scope, id);
    if (!/^[a-z0-9-]+(\/[a-z0-9-]+)*$/.test(props.prefix)) throw new Error(`secret prefix ${props.prefix} is not a plain path`);
    this.prefix = props.prefix;
    this.arnPattern = Arn.format(
      { service: 'secretsmanager', resource: 'secret', resourceName: `${props.prefix}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      Stack.of(this),
    );
  }

  /** One statement with exactly the actions asked for, on this prefix only. */
  grant(grantee: IGrantable, actions: readonly SecretAction[]) {
    if (actions.length === 0) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...new Set(actions)].map((a) => SECRET_ACTIONS[a]).sort(), resources: [this.arnPattern] }),
    );
  }
}
