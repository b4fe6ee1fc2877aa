import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { EnsembleAlarms } from './alarms.ts';
import type { EnsembleConfig } from './config.ts';
import { type DataStack, providerKeyNames, retentionDays } from './data-stack.ts';
import { MigrationRunner } from './migration-runner/migration-runner.ts';
import { apiContainerPort, type NetworkStack } from './network-stack.ts';

export interface ServiceStackProps extends StackProps {
  config: EnsembleConfig;
  network: NetworkStack;
  data: DataStack;
}

/** The metric Ensemble's workers publish: records not yet consumed, per consumer group. */
export const consumerLagMetric = { namespace: 'Ensemble', metricName: 'KafkaConsumerLag', dimension: 'ConsumerGroup' };

/** The repository root: the Docker build context of packages/infra/docker/Dockerfile. */
export const repositoryRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
export const dockerfilePath = 'packages/infra/docker/Dockerfile';

const cli = { api: ['start', '--no-worker'], worker: ['worker'], migrate: ['migrate'] } as const;
type Role = keyof typeof cli;

/**
 * The ECS cluster and what runs on it, all from one image (decision 0005): the API behind an HTTPS
 * load balancer, the workers, and the one-off migration that runs before every rolling deploy;
 * their auto-scaling, roles, logs and alarms.
 */
export class ServiceStack extends Stack {
  readonly cluster: ecs.Cluster;
  readonly apiService: ecs.FargateService;
  readonly workerService: ecs.FargateService;
  readonly migrateTaskDefinition: ecs.FargateTaskDefinition;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, network, data } = props;
    const env = config.envName;
    const logRetention = retentionDays(config.logs.retentionDays);

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: `ensemble-${env}`,
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    const image = containerImage(this, config);
    const appSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    // ---- configuration shared by every role: environment variables and ECS secrets ----------------
    const databaseUrl = `postgres://${data.databaseUser}@${data.database.dbInstanceEndpointAddress}:${data.database.dbInstanceEndpointPort}/${data.databaseName}?sslmode=no-verify`;
    const databaseEnvironment = {
      // The password comes from PGPASSWORD (node-postgres reads it when the URL has none).
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: String(config.database.poolSize),
      LOG_LEVEL: config.logLevel,
      SHUTDOWN_TIMEOUT_MS: String(config.shutdownTimeoutMs),
    };
    const databaseSecrets = { PGPASSWORD: ecs.Secret.fromSecretsManager(data.databaseSecret, 'password') };
    const kafkaEnvironment: Record<string, string> = {
      KAFKA_BROKERS: data.kafka.bootstrapBrokers,
      KAFKA_TOPIC_PARTITIONS: String(config.kafka.topicPartitions),
      KAFKA_REPLICATION_FACTOR: String(config.kafka.replicationFactor),
      // MSK serves SASL only over TLS (9096 SCRAM, 9098 IAM); names as in docs/configuration.md.
      KAFKA_TLS: 'true',
      KAFKA_SASL_MECHANISM: data.kafka.auth === 'scram' ? 'scram-sha-512' : 'aws-msk-iam',
      ...(data.kafka.auth === 'iam' ? { KAFKA_AWS_REGION: this.region } : {}),
    };
    // The SCRAM secret is imported by ARN: granting through the secret object would write the task
    // roles into the data stack's key policy (a dependency cycle); its key is granted below instead.
    const scramSecret = data.kafka.scramSecret
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'KafkaScramSecret', data.kafka.scramSecret.secretArn)
      : undefined;
    const kafkaSecrets: Record<string, ecs.Secret> = scramSecret
      ? {
          KAFKA_SASL_USERNAME: ecs.Secret.fromSecretsManager(scramSecret, 'username'),
          KAFKA_SASL_PASSWORD: ecs.Secret.fromSecretsManager(scramSecret, 'password'),
        }
      : {};
    const appEnvironment: Record<string, string> = {
      ...databaseEnvironment,
      ...kafkaEnvironment,
      AWS_REGION: this.region,
      ENSEMBLE_ARTIFACTS_BUCKET: data.artifactsBucket.bucketName,
      ...(config.pineconeIndex ? { PINECONE_INDEX: config.pineconeIndex } : {}),
    };
    const appSecrets: Record<string, ecs.Secret> = {
      ...databaseSecrets,
      ...kafkaSecrets,
      ENSEMBLE_MASTER_KEY: ecs.Secret.fromSecretsManager(data.masterKeySecret),
      ...Object.fromEntries(
        providerKeyNames.map((name) => [name, ecs.Secret.fromSecretsManager(data.providerKeysSecret, name)]),
      ),
    };

    // ---- task definitions: one per role, each with its own task role ---------------------------
    const taskDefinition = (role: Role, size: { cpu: number; memoryMiB: number }) => {
      const logGroup = new logs.LogGroup(this, `${title(role)}Logs`, {
        logGroupName: `/ensemble/${env}/${role}`,
        retention: logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const definition = new ecs.FargateTaskDefinition(this, `${title(role)}Task`, {
        family: `ensemble-${env}-${role}`,
        cpu: size.cpu,
        memoryLimitMiB: size.memoryMiB,
        // The image is amd64 only (decision 0005).
        runtimePlatform: {
          cpuArchitecture: ecs.CpuArchitecture.X86_64,
          operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        },
      });
      return { definition, logDriver: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: role }) };
    };

    // API
    const api = taskDefinition('api', config.api);
    const apiContainer = api.definition.addContainer('ensemble', {
      image,
      command: [...cli.api],
      environment: { ...appEnvironment, PORT: String(apiContainerPort), TRUST_PROXY: network.vpc.vpcCidrBlock },
      secrets: { ...appSecrets, ENSEMBLE_ADMIN_KEY: ecs.Secret.fromSecretsManager(data.adminKeySecret) },
      logging: api.logDriver,
      portMappings: [{ containerPort: apiContainerPort, protocol: ecs.Protocol.TCP }],
      stopTimeout: Duration.seconds(config.stopTimeoutSeconds),
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${apiContainerPort}/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
    });

    // Workers: no HTTP, so no container health check; a worker that fails exits and is replaced.
    const worker = taskDefinition('worker', config.worker);
    worker.definition.addContainer('ensemble', {
      image,
      command: [...cli.worker],
      environment: { ...appEnvironment, KAFKA_CLIENT_ID: `ensemble-worker-${env}` },
      secrets: appSecrets,
      logging: worker.logDriver,
      stopTimeout: Duration.seconds(config.stopTimeoutSeconds),
    });

    // Migration: only the database.
    const migrate = taskDefinition('migrate', config.migrate);
    migrate.definition.addContainer('ensemble', {
      image,
      command: [...cli.migrate],
      environment: databaseEnvironment,
      secrets: databaseSecrets,
      logging: migrate.logDriver,
    });
    this.migrateTaskDefinition = migrate.definition;

    // ---- what each role may do in AWS ----------------------------------------------------------------
    if (scramSecret && data.kafka.key) {
      for (const definition of [api.definition, worker.definition]) {
        definition.obtainExecutionRole().addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['kms:Decrypt'],
            resources: [data.kafka.key.keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
          }),
        );
      }
    }
    for (const role of [api.definition.taskRole, worker.definition.taskRole]) {
      data.artifactsBucket.grantReadWrite(role);
      data.kafka.grantClientAccess(role);
      // Scale-in protection while streams or jobs are open: the app calls the ECS agent's
      // task-protection endpoint, which acts with the task role on the task itself.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
          resources: [this.formatArn({ service: 'ecs', resource: 'task', resourceName: `ensemble-${env}/*` })],
        }),
      );
      if (config.bedrockModelArns.length > 0) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
            resources: config.bedrockModelArns,
          }),
        );
      }
    }

    // ---- the one-off migration, before any service rolls ---------------------------------------
    const migration = new MigrationRunner(this, 'Migration', {
      cluster: this.cluster,
      taskDefinition: migrate.definition,
      containerName: 'ensemble',
      vpc: network.vpc,
      subnets: appSubnets,
      securityGroup: network.appSecurityGroup,
      logRetention,
      timeout: Duration.minutes(30),
    });

    // ---- services ----------------------------------------------------------------------------------
    const serviceDefaults = {
      cluster: this.cluster,
      vpcSubnets: appSubnets,
      securityGroups: [network.appSecurityGroup],
      assignPublicIp: false,
      // Rolling deploys: start new tasks before stopping old ones; roll back when they fail to settle.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    } satisfies Partial<ecs.FargateServiceProps>;
    this.apiService = new ecs.FargateService(this, 'ApiService', {
      ...serviceDefaults,
      serviceName: 'api',
      taskDefinition: api.definition,
      desiredCount: config.api.minTasks,
      healthCheckGracePeriod: Duration.seconds(60),
    });
    this.workerService = new ecs.FargateService(this, 'WorkerService', {
      ...serviceDefaults,
      serviceName: 'worker',
      taskDefinition: worker.definition,
      desiredCount: config.worker.minTasks,
    });
    this.apiService.node.addDependency(migration);
    this.workerService.node.addDependency(migration);

    // ---- load balancer: HTTPS in, /readyz decides which tasks get traffic ----------------------
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: network.vpc,
      internetFacing: true,
      securityGroup: network.loadBalancerSecurityGroup,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      idleTimeout: Duration.seconds(config.api.idleTimeoutSeconds),
      dropInvalidHeaderFields: true,
    });
    const https = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      // biome-ignore lint/style/noNonNullAssertion: resolveConfig requires the certificate.
      certificates: [elbv2.ListenerCertificate.fromArn(config.certificateArn!)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
    });
    this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
    this.targetGroup = https.addTargets('Api', {
      port: apiContainerPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [
        this.apiService.loadBalancerTarget({
          containerName: apiContainer.containerName,
          containerPort: apiContainerPort,
        }),
      ],
      deregistrationDelay: Duration.seconds(config.api.deregistrationDelaySeconds),
      healthCheck: {
        path: '/readyz',
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });

    // ---- auto-scaling ------------------------------------------------------------------------------
    const apiScaling = this.apiService.autoScaleTaskCount({
      minCapacity: config.api.minTasks,
      maxCapacity: config.api.maxTasks,
    });
    apiScaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: config.api.cpuTargetPercent,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
    apiScaling.scaleOnRequestCount('Requests', {
      targetGroup: this.targetGroup,
      requestsPerTarget: config.api.requestsPerTargetPerMinute,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });

    const lag = consumerLag(config.worker.consumerGroups);
    const workerScaling = this.workerService.autoScaleTaskCount({
      minCapacity: config.worker.minTasks,
      maxCapacity: config.worker.maxTasks,
    });
    workerScaling.scaleOnMetric('ConsumerLag', {
      metric: lag,
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: config.worker.scaleInLag, change: -1 },
        { lower: config.worker.scaleOutLag, change: +1 },
        { lower: config.worker.scaleOutFastLag, change: +3 },
      ],
      cooldown: Duration.seconds(120),
      evaluationPeriods: 3,
    });

    // ---- alarms ------------------------------------------------------------------------------------
    new EnsembleAlarms(this, 'Alarms', {
      config,
      loadBalancer: this.loadBalancer,
      targetGroup: this.targetGroup,
      database: data.database,
      consumerLag: lag,
    });

    // ---- outputs -----------------------------------------------------------------------------------
    new CfnOutput(this, 'LoadBalancerDnsName', {
      value: this.loadBalancer.loadBalancerDnsName,
      description: 'Point your DNS name (the certificate’s) at this, as a CNAME or an alias record',
    });
    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new CfnOutput(this, 'MigrateTaskDefinition', { value: migrate.definition.taskDefinitionArn });
    new CfnOutput(this, 'MigrateRunTaskNetwork', {
      value: Stack.of(this).toJsonString({
        awsvpcConfiguration: {
          subnets: network.vpc.selectSubnets(appSubnets).subnetIds,
          securityGroups: [network.appSecurityGroup.securityGroupId],
          assignPublicIp: 'DISABLED',
        },
      }),
      description: 'the --network-configuration for a manual `aws ecs run-task` of the migration',
    });
  }
}

function containerImage(scope: Construct, config: EnsembleConfig): ecs.ContainerImage {
  if (config.image.kind === 'ecr') {
    const repository = ecr.Repository.fromRepositoryName(scope, 'ImageRepository', config.image.repositoryName);
    return ecs.ContainerImage.fromEcrRepository(repository, config.image.tag);
  }
  return ecs.ContainerImage.fromAsset(repositoryRoot, {
    file: dockerfilePath,
    platform: ecrAssets.Platform.LINUX_AMD64,
    target: 'runtime',
  });
}

/** The lag of the workers' consumer groups, summed when there are several. */
export function consumerLag(groups: readonly string[]): cloudwatch.IMetric {
  const metrics = groups.map(
    (group) =>
      new cloudwatch.Metric({
        namespace: consumerLagMetric.namespace,
        metricName: consumerLagMetric.metricName,
        dimensionsMap: { [consumerLagMetric.dimension]: group },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }),
  );
  if (metrics.length === 1) return metrics[0] as cloudwatch.Metric;
  return new cloudwatch.MathExpression({
    expression: metrics.map((_, i) => `FILL(m${i}, 0)`).join(' + '),
    usingMetrics: Object.fromEntries(metrics.map((metric, i) => [`m${i}`, metric])),
    label: 'Kafka consumer lag (sum of groups)',
    period: Duration.minutes(1),
  });
}

function title(role: Role): string {
  return role.charAt(0).toUpperCase() + role.slice(1);
}
