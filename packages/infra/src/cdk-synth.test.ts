import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repositoryRoot } from './service-stack.ts';

// The real CDK CLI on cdk.json, offline (no AWS account, no credentials), as a user runs it.
const run = promisify(execFile);
const infraDirectory = join(repositoryRoot, 'packages', 'infra');
const cdk = join(repositoryRoot, 'node_modules', '.bin', 'cdk');
const certificate = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const offline = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  CDK_DISABLE_VERSION_CHECK: '1',
  // No credentials and no region: the CLI must not reach AWS.
  AWS_EC2_METADATA_DISABLED: 'true',
};

test('cdk synth writes the three prod stacks offline', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(cdk), 'the aws-cdk CLI is installed (npm ci)');
  const out = mkdtempSync(join(tmpdir(), 'ensemble-cdk-cli-'));
  await run(
    cdk,
    ['synth', '--quiet', '--no-notices', '-c', 'env=prod', '-c', `certificateArn=${certificate}`, '-o', out],
    {
      cwd: infraDirectory,
      env: offline,
      timeout: 110_000,
    },
  );
  const templates = readdirSync(out)
    .filter((file) => file.endsWith('.template.json'))
    .sort();
  assert.deepEqual(templates, [
    'Ensemble-prod-Data.template.json',
    'Ensemble-prod-Network.template.json',
    'Ensemble-prod-Service.template.json',
  ]);
});

test('cdk synth without a certificate stops with the setting and the fix', { timeout: 120_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'ensemble-cdk-cli-'));
  const failure = await run(cdk, ['synth', '--quiet', '--no-notices', '-c', 'env=dev', '-o', out], {
    cwd: infraDirectory,
    env: offline,
    timeout: 110_000,
  }).then(
    () => undefined,
    (error: { stderr: string }) => error,
  );
  assert.ok(failure, 'synth must fail');
  assert.match(failure.stderr, /certificateArn: an ACM certificate ARN is required/);
});
