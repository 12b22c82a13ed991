import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { TABLE_DEFINITION } from '../../shared/store/schema.ts';
import { RegistrySecrets } from '../constructs/registry-secrets.ts';
import { stageName, type DeploySettings } from '../settings.ts';

/**
 * The stateful half: the truth (one table), the bus and the registry secrets' home. Kept apart so the service
 * stack can be replaced or torn down freely; the table is retained and protected from deletion.
 */
export class DataStack extends Stack {
  readonly table: Table;
  readonly bus: EventBus;
  readonly secrets: RegistrySecrets;

  constructor(scope: Construct, id: string, props: StackProps & { settings: DeploySettings }) {
    super(scope, id, props);
    const { settings } = props;
    const key = (name: string) => ({ name, type: AttributeType.STRING });

    this.table = new Table(this, 'Table', {
      tableName: stageName(settings),
      partitionKey: key(TABLE_DEFINITION.partitionKey),
      sortKey: key(TABLE_DEFINITION.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: TABLE_DEFINITION.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The same GSIs the local stores create (shared/store/keys.ts): the repositories Query them by name.
    for (const index of TABLE_DEFINITION.globalSecondaryIndexes)
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: key(index.pk),
        sortKey: key(index.sk),
        projectionType: ProjectionType.ALL,
      });

    this.bus = new EventBus(this, 'Bus', { eventBusName: stageName(settings) });

    this.secrets = new RegistrySecrets(this, 'RegistrySecrets', { prefix: `image-registry/${settings.stage}` });
  }
}
