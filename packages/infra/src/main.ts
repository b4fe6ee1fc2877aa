/**
 * The CDK app (`cdk.json`: `node src/main.ts`; Node 24 runs the TypeScript directly).
 *
 *   npx cdk deploy --all -c env=dev -c certificateArn=arn:aws:acm:…
 *
 * See docs/deploy-aws.md.
 */
import { App } from 'aws-cdk-lib';
import { ConfigError, resolveConfig } from './config.ts';
import { createEnsembleStacks } from './ensemble-stacks.ts';

const app = new App();
try {
  createEnsembleStacks(
    app,
    resolveConfig((key) => app.node.tryGetContext(key)),
  );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}
app.synth();
