import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, presets, resolveConfig } from './config.ts';

const certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123';
const resolve = (context: Record<string, unknown>) => resolveConfig((key) => context[key]);
const problemsOf = (context: Record<string, unknown>) => {
  try {
    resolve(context);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.join('\n');
  }
  assert.fail('expected a ConfigError');
};

test('both presets are valid with a certificate', () => {
  for (const env of ['dev', 'prod']) {
    const config = resolve({ env, certificateArn });
    assert.equal(config.envName, env);
    assert.deepEqual(config.image, { kind: 'asset' });
  }
  assert.equal(resolve({ certificateArn }).envName, 'dev', 'dev by default');
});

test('context shorthands and a JSON override object change the preset', () => {
  const config = resolve({
    env: 'prod',
    certificateArn,
    imageTag: '2.0.1',
    alarmEmail: 'ops@example.com',
    multiAz: 'false',
    ensemble: JSON.stringify({ api: { maxTasks: 20 }, pineconeIndex: 'docs' }),
  });
  assert.deepEqual(config.image, { kind: 'ecr', repositoryName: 'ensemble', tag: '2.0.1' });
  assert.equal(config.alarms.email, 'ops@example.com');
  assert.equal(config.database.multiAz, false);
  assert.equal(config.api.maxTasks, 20);
  assert.equal(config.api.minTasks, presets.prod.api.minTasks, 'the rest of the section is kept');
  assert.equal(config.pineconeIndex, 'docs');
  assert.equal(presets.prod.api.maxTasks, 10, 'the preset itself is not modified');
});

test('kafkaMode=serverless switches to IAM authentication', () => {
  const config = resolve({ env: 'prod', certificateArn, kafkaMode: 'serverless' });
  assert.equal(config.kafka.mode, 'serverless');
  assert.equal(config.kafka.auth, 'iam');
});

test('wrong settings are reported together, each naming the setting and the fix', () => {
  const problems = problemsOf({
    env: 'prod',
    ensemble: {
      kafka: { mode: 'serverless', auth: 'scram', topicPartitions: 4 },
      api: { cpu: 512, memoryMiB: 512 },
      shutdownTimeoutMs: 119_000,
    },
  });
  assert.match(problems, /certificateArn: .*fix: -c certificateArn=/);
  assert.match(problems, /kafka.auth: MSK Serverless supports only IAM/);
  assert.match(problems, /worker.maxTasks: 12 workers for 4 partitions/);
  assert.match(problems, /api.cpu\/memoryMiB: 512\/512 is not a Fargate size/);
  assert.match(problems, /shutdownTimeoutMs: must end at least 5 s before stopTimeoutSeconds/);
});

test('an unknown environment, an unknown setting, bad JSON and a latest tag are refused', () => {
  assert.match(problemsOf({ env: 'staging', certificateArn }), /env: unknown environment 'staging'/);
  assert.match(
    problemsOf({ certificateArn, ensemble: { api: { maxTask: 3 } } }),
    /ensemble.api.maxTask: unknown setting/,
  );
  assert.match(problemsOf({ certificateArn, ensemble: '{not json' }), /not JSON/);
  assert.match(problemsOf({ certificateArn, imageTag: 'latest' }), /immutable tag/);
  assert.match(
    problemsOf({ env: 'prod', certificateArn, ensemble: { kafka: { brokerCount: 4 } } }),
    /kafka.brokerCount: 4 brokers cannot spread evenly over 3/,
  );
});
