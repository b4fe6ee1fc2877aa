import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containersByRole, registerEnvironmentChecks } from './testing/environment-checks.ts';
import { policyStatements } from './testing/policy-statements.ts';
import { type SynthesizedEnvironment, synthesizeEnvironment } from './testing/synthesize-environment.ts';

// The other flavour: MSK Serverless with IAM auth, an image CI pushed to ECR, two consumer groups.
let synthesized: SynthesizedEnvironment | undefined;
const serverless = () => {
  synthesized ??= synthesizeEnvironment({
    env: 'prod',
    kafkaMode: 'serverless',
    imageTag: '1.4.2',
    imageRepository: 'ensemble',
    ensemble: { worker: { consumerGroups: ['ensemble.jobs', 'ensemble.usage'] } },
  });
  return synthesized;
};

registerEnvironmentChecks(serverless);

test('serverless: MSK Serverless with IAM authentication, no brokers, no SCRAM secret', () => {
  const { data } = serverless();
  data.resourceCountIs('AWS::MSK::Cluster', 0);
  data.resourceCountIs('AWS::MSK::ServerlessCluster', 1);
  data.hasResourceProperties('AWS::MSK::ServerlessCluster', {
    ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
  });
  data.resourceCountIs('AWS::MSK::BatchScramSecret', 0);
  const { api, worker } = containersByRole(serverless());
  for (const container of [api, worker]) {
    const env = Object.fromEntries((container.Environment ?? []).map((v) => [v.Name, v.Value]));
    assert.equal(env.KAFKA_SASL_MECHANISM, 'aws-msk-iam');
    assert.equal(env.KAFKA_TLS, 'true');
    assert.equal(env.KAFKA_AWS_REGION, 'us-east-1');
    assert.ok(!(container.Secrets ?? []).some((s) => s.Name.startsWith('KAFKA_SASL')));
  }
});

test('serverless: the task roles may use only this cluster, its ensemble.* topics and its groups', () => {
  const statements = policyStatements(serverless().service).filter((s) =>
    s.actions.some((a) => a.startsWith('kafka-cluster:')),
  );
  const byAction = (action: string) => statements.filter((s) => s.actions.includes(action));
  assert.equal(byAction('kafka-cluster:Connect').length, 2, 'API and worker roles');
  for (const statement of statements) {
    const resources = JSON.stringify(statement.resources);
    assert.ok(!statement.resources.includes('*'), resources);
    if (statement.actions.includes('kafka-cluster:WriteData')) {
      assert.ok(resources.includes(':topic/ensemble-prod/') && resources.includes('/ensemble.*'), resources);
    }
    if (statement.actions.includes('kafka-cluster:AlterGroup'))
      assert.ok(resources.includes(':group/ensemble-prod/'), resources);
  }
});

test('serverless: the image comes from ECR at an immutable tag, and the execution roles may pull it', () => {
  const { api } = containersByRole(serverless());
  const image = JSON.stringify((api as unknown as { Image: unknown }).Image);
  assert.ok(image.includes('ensemble:1.4.2'), image);
  const pulls = policyStatements(serverless().service).filter((s) => s.actions.includes('ecr:BatchGetImage'));
  assert.ok(pulls.length >= 1);
  for (const pull of pulls) assert.ok(JSON.stringify(pull.resources).includes(':repository/ensemble'));
});
