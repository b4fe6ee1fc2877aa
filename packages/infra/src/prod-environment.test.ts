import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { containersByRole, registerEnvironmentChecks } from './testing/environment-checks.ts';
import { type SynthesizedEnvironment, synthesizeEnvironment } from './testing/synthesize-environment.ts';

let synthesized: SynthesizedEnvironment | undefined;
const prod = () => {
  synthesized ??= synthesizeEnvironment({ env: 'prod' });
  return synthesized;
};

registerEnvironmentChecks(prod);

test('prod: three availability zones, a NAT gateway in each', () => {
  const { network } = prod();
  network.resourceCountIs('AWS::EC2::Subnet', 9);
  network.resourceCountIs('AWS::EC2::NatGateway', 3);
});

test('prod: Multi-AZ PostgreSQL with deletion protection and two weeks of backups', () => {
  prod().data.hasResourceProperties('AWS::RDS::DBInstance', {
    MultiAZ: true,
    DeletionProtection: true,
    BackupRetentionPeriod: 14,
    DBInstanceClass: 'db.m7g.large',
  });
});

test('prod: MSK provisioned over three zones, encrypted at rest and in transit, SASL/SCRAM only', () => {
  const { data } = prod();
  data.hasResourceProperties('AWS::MSK::Cluster', {
    NumberOfBrokerNodes: 3,
    EncryptionInfo: {
      EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
      EncryptionAtRest: { DataVolumeKMSKeyId: Match.anyValue() },
    },
    ClientAuthentication: { Sasl: { Scram: { Enabled: true } }, Unauthenticated: { Enabled: false } },
  });
  // The SCRAM credentials: a secret MSK accepts (AmazonMSK_ prefix, customer key), associated with the cluster.
  data.hasResourceProperties('AWS::SecretsManager::Secret', {
    Name: 'AmazonMSK_ensemble-prod',
    KmsKeyId: Match.anyValue(),
  });
  data.resourceCountIs('AWS::MSK::BatchScramSecret', 1);
  const { api } = containersByRole(prod());
  const env = Object.fromEntries((api.Environment ?? []).map((v) => [v.Name, v.Value]));
  assert.equal(env.KAFKA_SASL_MECHANISM, 'scram-sha-512');
  assert.equal(env.KAFKA_TLS, 'true');
  assert.equal(env.KAFKA_AWS_REGION, undefined);
  assert.equal(env.KAFKA_REPLICATION_FACTOR, '3');
  assert.ok((api.Secrets ?? []).some((s) => s.Name === 'KAFKA_SASL_PASSWORD'));
});

test('prod: the artifacts bucket and the secrets outlive the stack', () => {
  const { data } = prod();
  const buckets = Object.values(data.findResources('AWS::S3::Bucket')) as Array<{ DeletionPolicy: string }>;
  assert.deepEqual(
    buckets.map((b) => b.DeletionPolicy),
    ['Retain'],
  );
  data.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
});

test('prod: API and workers run at least two tasks each', () => {
  const { service } = prod();
  service.hasResourceProperties('AWS::ECS::Service', { ServiceName: 'api', DesiredCount: 2 });
  service.hasResourceProperties('AWS::ECS::Service', { ServiceName: 'worker', DesiredCount: 2 });
});
