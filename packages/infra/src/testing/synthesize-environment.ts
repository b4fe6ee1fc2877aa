import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { type EnsembleConfig, resolveConfig } from '../config.ts';
import { createEnsembleStacks, type EnsembleStacks } from '../ensemble-stacks.ts';

export const testAccount = '123456789012';
export const testRegion = 'us-east-1';
export const testCertificateArn = `arn:aws:acm:${testRegion}:${testAccount}:certificate/11111111-2222-3333-4444-555555555555`;

export interface SynthesizedEnvironment {
  config: EnsembleConfig;
  stacks: EnsembleStacks;
  assembly: CloudAssembly;
  network: Template;
  data: Template;
  service: Template;
  /** Every template, for checks that apply to all of them. */
  all: Array<{ name: string; template: Template }>;
}

/**
 * Synthesizes one environment the way `cdk synth` does — the feature flags of cdk.json, the same
 * context keys — fully offline: the availability zones the VPC would look up are given here.
 * Synthesize once per test file and share the result (≈ 3–6 s per environment).
 */
export function synthesizeEnvironment(context: Record<string, unknown>): SynthesizedEnvironment {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'ensemble-cdk-')),
    context: {
      ...cdkJson.context,
      account: testAccount,
      region: testRegion,
      certificateArn: testCertificateArn,
      [`availability-zones:account=${testAccount}:region=${testRegion}`]: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      ...context,
    },
  });
  const config = resolveConfig((key) => app.node.tryGetContext(key));
  const stacks = createEnsembleStacks(app, config);
  const assembly = app.synth();
  const template = (name: string) => Template.fromJSON(assembly.getStackByName(name).template);
  const network = template(stacks.network.stackName);
  const data = template(stacks.data.stackName);
  const service = template(stacks.service.stackName);
  return {
    config,
    stacks,
    assembly,
    network,
    data,
    service,
    all: [
      { name: stacks.network.stackName, template: network },
      { name: stacks.data.stackName, template: data },
      { name: stacks.service.stackName, template: service },
    ],
  };
}
