import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { registerEnvironmentChecks } from './testing/environment-checks.ts';
import { type SynthesizedEnvironment, synthesizeEnvironment } from './testing/synthesize-environment.ts';

let synthesized: SynthesizedEnvironment | undefined;
const dev = () => {
  synthesized ??= synthesizeEnvironment({ env: 'dev' });
  return synthesized;
};

registerEnvironmentChecks(dev);

test('dev: two availability zones and one NAT gateway', () => {
  const { network } = dev();
  network.resourceCountIs('AWS::EC2::Subnet', 6);
  network.resourceCountIs('AWS::EC2::NatGateway', 1);
});

test('dev: single-AZ PostgreSQL, still encrypted with a week of backups; MSK on two small brokers', () => {
  const { data } = dev();
  data.hasResourceProperties('AWS::RDS::DBInstance', {
    MultiAZ: false,
    BackupRetentionPeriod: 7,
    DBInstanceClass: 'db.t4g.small',
    StorageEncrypted: true,
  });
  data.hasResourceProperties('AWS::MSK::Cluster', {
    NumberOfBrokerNodes: 2,
    BrokerNodeGroupInfo: Match.objectLike({ InstanceType: 'kafka.t3.small' }),
  });
});

test('dev: the image is built from the Dockerfile, and only the whitelisted files reach the build', () => {
  const { assembly, stacks } = dev();
  const manifest = JSON.parse(
    readFileSync(join(assembly.directory, `${stacks.service.stackName}.assets.json`), 'utf8'),
  ) as { dockerImages: Record<string, unknown> };
  const images = Object.values(manifest.dockerImages);
  assert.equal(images.length, 1, 'one image for every role');
  const image = images[0] as {
    source: { directory: string; dockerFile: string; platform: string; dockerBuildTarget: string };
  };
  assert.equal(image.source.dockerFile, 'packages/infra/docker/Dockerfile');
  assert.equal(image.source.platform, 'linux/amd64');
  assert.equal(image.source.dockerBuildTarget, 'runtime');
  const context = join(assembly.directory, image.source.directory);
  assert.ok(existsSync(join(context, 'packages/infra/docker/Dockerfile')), 'the Dockerfile is in the staged context');
  assert.ok(existsSync(join(context, 'package-lock.json')));
  assert.ok(existsSync(join(context, 'packages/cli/bin/ensemble.js')));
  const top = readdirSync(context).sort();
  assert.deepEqual(top, ['.dockerignore', 'package-lock.json', 'package.json', 'packages', 'tsconfig.base.json']);
  const staged = readdirSync(context, { recursive: true }).map(String);
  assert.ok(!staged.some((file) => file.includes('node_modules')), 'no node_modules');
  assert.ok(!staged.some((file) => file.endsWith('.test.ts')), 'no tests');
  assert.ok(!staged.some((file) => /(^|\/)\.env$/.test(file)), 'no .env');
  assert.ok(
    !staged.some((file) => /(^|\/)dist(\/|$)/.test(file)),
    "no local console build: the image's console stage makes its own",
  );
  assert.ok(existsSync(join(context, 'packages/console/src')), "the console's sources, for its build stage");
  assert.deepEqual(readdirSync(join(context, 'packages')).sort(), [
    'adapters',
    'cli',
    'console',
    'core',
    'infra',
    'providers',
    'server',
    'worker',
  ]);
});
