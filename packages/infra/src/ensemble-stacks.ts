import { type App, Tags } from 'aws-cdk-lib';
import type { EnsembleConfig } from './config.ts';
import { DataStack } from './data-stack.ts';
import { NetworkStack } from './network-stack.ts';
import { ServiceStack } from './service-stack.ts';

export interface EnsembleStacks {
  network: NetworkStack;
  data: DataStack;
  service: ServiceStack;
}

/**
 * Ensemble's three stacks for one environment, deployed in this order by `cdk deploy --all`:
 * `Ensemble-<env>-Network` (VPC, security groups), `Ensemble-<env>-Data` (RDS, MSK, S3, secrets) and
 * `Ensemble-<env>-Service` (ECS, load balancer, scaling, migration, alarms).
 */
export function createEnsembleStacks(app: App, config: EnsembleConfig): EnsembleStacks {
  const env = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const prefix = `Ensemble-${config.envName}`;
  const common = { env, terminationProtection: config.envName === 'prod' };
  const network = new NetworkStack(app, `${prefix}-Network`, {
    ...common,
    config,
    description: `Ensemble ${config.envName}: VPC and security groups`,
  });
  const data = new DataStack(app, `${prefix}-Data`, {
    ...common,
    config,
    network,
    description: `Ensemble ${config.envName}: PostgreSQL (RDS), Kafka (MSK), artifacts (S3), secrets`,
  });
  const service = new ServiceStack(app, `${prefix}-Service`, {
    ...common,
    config,
    network,
    data,
    description: `Ensemble ${config.envName}: ECS Fargate API and workers, load balancer, scaling, alarms`,
  });
  for (const stack of [network, data, service]) {
    Tags.of(stack).add('project', 'ensemble');
    Tags.of(stack).add('environment', config.envName);
  }
  return { network, data, service };
}
