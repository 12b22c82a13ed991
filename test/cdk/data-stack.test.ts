import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_INDEXES } from '../../shared/store/keys.ts';
import { TABLE_DEFINITION } from '../../shared/store/schema.ts';
import { only, synthApp, templatesOf } from './synth.ts';

describe('the stateful stack', () => {
  let built: ReturnType<typeof synthApp>;
  let data: Template;

  beforeAll(() => {
    built = synthApp();
    data = templatesOf(built).data;
  });

  it('holds exactly one table, one bus and nothing that runs code', () => {
    expect(Object.keys(data.toJSON().Resources).map((id) => data.toJSON().Resources[id].Type).sort()).toEqual([
      'AWS::DynamoDB::Table',
      'AWS::Events::EventBus',
    ]);
  });

  it('keeps the truth on demand, with point-in-time recovery, deletion protection and a TTL attribute, retained on delete', () => {
    const { resource } = only(data, 'AWS::DynamoDB::Table', () => true, 'the table');
    expect(resource.Properties).toMatchObject({
      TableName: 'image-registry-test',
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      TimeToLiveSpecification: { AttributeName: TABLE_DEFINITION.timeToLiveAttribute, Enabled: true },
    });
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
    expect(built.data.terminationProtection).toBe(true);
  });

  it('declares the key schema and exactly the GSIs the keys module declares, projecting all attributes', () => {
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: Object.values(TABLE_INDEXES).map((g) => ({
        IndexName: g.name,
        KeySchema: [
          { AttributeName: g.pk, KeyType: 'HASH' },
          { AttributeName: g.sk, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    });
    const { resource } = only(data, 'AWS::DynamoDB::Table', () => true, 'the table');
    const attributes = (resource.Properties.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map((a) => `${a.AttributeName}:${a.AttributeType}`);
    expect(attributes.sort()).toEqual(['gsi1pk:S', 'gsi1sk:S', 'gsi2pk:S', 'gsi2sk:S', 'pk:S', 'sk:S']);
  });

  it('names the bus and the registry secrets after the stage', () => {
    data.hasResourceProperties('AWS::Events::EventBus', { Name: 'image-registry-test' });
    expect(built.data.secrets.prefix).toBe('image-registry/test');
    expect(JSON.stringify(built.data.resolve(built.data.secrets.arnPattern))).toMatch(/:secret:image-registry\/test\/\*"/);
  });

  it('puts a second stage beside the first without a name clash', () => {
    const other = templatesOf(synthApp({ context: { stage: 'prod' } })).data;
    other.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'image-registry-prod' });
    other.hasResourceProperties('AWS::Events::EventBus', { Name: 'image-registry-prod' });
    data.hasResourceProperties('AWS::DynamoDB::Table', { TableName: Match.not('image-registry-prod') });
  });

  it('refuses to build without the OIDC issuer and audience, naming what is missing', () => {
    expect(() => synthApp({ context: { oidcIssuer: '', oidcAudience: '' } })).toThrow(/oidcIssuer[\s\S]*oidcAudience/);
    expect(() => synthApp({ context: { oidcIssuer: 'http://issuer.example.com' } })).toThrow(/https/);
    expect(() => synthApp({ context: { stage: 'Prod_1' } })).toThrow(/stage/);
  });
});
