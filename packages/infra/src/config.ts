/**
 * Everything that differs between deployments of Ensemble on AWS: sizes, counts, retention, which
 * MSK flavour. `dev` and `prod` are the two presets; the CDK context picks one (`-c env=prod`) and
 * may override any field (`-c ensemble='{"api":{"maxTasks":20}}'`, or an `ensemble` object in
 * cdk.json), plus a few shorthands (`-c certificateArn=…`, `-c imageTag=…`). `resolveConfig` checks the
 * result and names the setting and the fix when something is wrong, before anything is synthesized.
 */

export type EnvironmentName = 'dev' | 'prod';

/** Where the container image comes from. */
export type ImageSource =
  /** Built from packages/infra/docker/Dockerfile by `cdk deploy` (needs Docker) and pushed to the CDK assets repository. */
  | { kind: 'asset' }
  /** Already pushed by CI to an ECR repository of this account and region. */
  | { kind: 'ecr'; repositoryName: string; tag: string };

export interface FargateSize {
  /** CPU units: 256 = 0.25 vCPU, 1024 = 1 vCPU. */
  cpu: number;
  memoryMiB: number;
}

export interface EnsembleConfig {
  envName: EnvironmentName;
  /** AWS account and region; unset uses the CLI's (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION). */
  account?: string;
  region?: string;
  /** ACM certificate (same region) for the load balancer's HTTPS listener. Required. */
  certificateArn?: string;
  image: ImageSource;
  network: {
    cidr: string;
    maxAzs: number;
    natGateways: number;
  };
  api: FargateSize & {
    minTasks: number;
    maxTasks: number;
    /** Target tracking on average CPU. */
    cpuTargetPercent: number;
    /** Target tracking on ALBRequestCountPerTarget (requests per task per minute). */
    requestsPerTargetPerMinute: number;
    /** How long the load balancer lets in-flight requests on a deregistered task finish. */
    deregistrationDelaySeconds: number;
    /** Longest idle gap on a connection (long completions and streams). */
    idleTimeoutSeconds: number;
  };
  worker: FargateSize & {
    minTasks: number;
    /** At most `kafka.topicPartitions`: more consumers than partitions sit idle. */
    maxTasks: number;
    /** Consumer groups whose lag (summed) drives the worker count. */
    consumerGroups: string[];
    /** Total lag (records) above which one worker is added… */
    scaleOutLag: number;
    /** …above which three are added at once… */
    scaleOutFastLag: number;
    /** …and below which one is removed. */
    scaleInLag: number;
  };
  migrate: FargateSize;
  /** Seconds ECS waits after SIGTERM before SIGKILL (Fargate allows at most 120). */
  stopTimeoutSeconds: number;
  /** SHUTDOWN_TIMEOUT_MS given to Ensemble; must end before stopTimeoutSeconds. */
  shutdownTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  database: {
    /** RDS instance class without the `db.` prefix, e.g. t4g.small. */
    instanceClass: string;
    /** PostgreSQL major.minor, as in aws_rds.PostgresEngineVersion (e.g. 18.3). */
    engineVersion: string;
    allocatedStorageGiB: number;
    /** Storage autoscaling ceiling. */
    maxAllocatedStorageGiB: number;
    multiAz: boolean;
    backupRetentionDays: number;
    deletionProtection: boolean;
    /** DATABASE_POOL_SIZE per process. */
    poolSize: number;
  };
  kafka: {
    /** `provisioned`: an MSK cluster of brokers; `serverless`: MSK Serverless (IAM auth only). */
    mode: 'provisioned' | 'serverless';
    /** `scram`: SASL/SCRAM-SHA-512 with credentials in Secrets Manager; `iam`: SASL/OAUTHBEARER with the task role. */
    auth: 'scram' | 'iam';
    /** MSK version string, e.g. 4.0.x.kraft (`aws kafka list-kafka-versions`). */
    kafkaVersion: string;
    brokerInstanceType: string;
    /** A multiple of the number of availability zones. */
    brokerCount: number;
    brokerStorageGiB: number;
    topicPartitions: number;
    replicationFactor: number;
  };
  artifacts: {
    /** Keep the bucket (and its objects) when the stack is deleted. */
    retainOnDelete: boolean;
  };
  logs: {
    retentionDays: number;
  };
  alarms: {
    /** E-mail address subscribed to the alarm topic (confirm the subscription mail). */
    email?: string;
    /** 5xx responses (load balancer + targets) as a percentage of requests, over 5 minutes. */
    http5xxPercent: number;
    /** Summed consumer lag sustained for 15 minutes. */
    consumerLag: number;
    databaseCpuPercent: number;
    /** Alarm when free storage falls below this share of the allocated storage. */
    databaseFreeStoragePercent: number;
  };
  /** Model ARNs Ensemble may call on Amazon Bedrock with the task role (none by default). */
  bedrockModelArns: string[];
  /** Pinecone index name given to Ensemble (PINECONE_INDEX); the key is the PINECONE_API_KEY secret. */
  pineconeIndex?: string;
}

const dev: EnsembleConfig = {
  envName: 'dev',
  image: { kind: 'asset' },
  network: { cidr: '10.40.0.0/16', maxAzs: 2, natGateways: 1 },
  api: {
    cpu: 512,
    memoryMiB: 1024,
    minTasks: 1,
    maxTasks: 3,
    cpuTargetPercent: 60,
    requestsPerTargetPerMinute: 3000,
    deregistrationDelaySeconds: 30,
    idleTimeoutSeconds: 300,
  },
  worker: {
    cpu: 512,
    memoryMiB: 1024,
    minTasks: 1,
    maxTasks: 3,
    consumerGroups: ['ensemble.jobs', 'ensemble.jobs.planner', 'ensemble.usage-ledger'],
    scaleOutLag: 1000,
    scaleOutFastLag: 10000,
    scaleInLag: 100,
  },
  migrate: { cpu: 256, memoryMiB: 512 },
  stopTimeoutSeconds: 60,
  shutdownTimeoutMs: 45_000,
  logLevel: 'info',
  database: {
    instanceClass: 't4g.small',
    engineVersion: '18.3',
    allocatedStorageGiB: 20,
    maxAllocatedStorageGiB: 50,
    multiAz: false,
    backupRetentionDays: 7,
    deletionProtection: false,
    poolSize: 10,
  },
  kafka: {
    mode: 'provisioned',
    auth: 'scram',
    kafkaVersion: '4.0.x.kraft',
    brokerInstanceType: 'kafka.t3.small',
    brokerCount: 2,
    brokerStorageGiB: 20,
    topicPartitions: 6,
    replicationFactor: 2,
  },
  artifacts: { retainOnDelete: false },
  logs: { retentionDays: 14 },
  alarms: { http5xxPercent: 5, consumerLag: 50_000, databaseCpuPercent: 80, databaseFreeStoragePercent: 10 },
  bedrockModelArns: [],
};

const prod: EnsembleConfig = {
  envName: 'prod',
  image: { kind: 'asset' },
  network: { cidr: '10.50.0.0/16', maxAzs: 3, natGateways: 3 },
  api: {
    cpu: 1024,
    memoryMiB: 2048,
    minTasks: 2,
    maxTasks: 10,
    cpuTargetPercent: 60,
    requestsPerTargetPerMinute: 3000,
    deregistrationDelaySeconds: 60,
    idleTimeoutSeconds: 300,
  },
  worker: {
    cpu: 1024,
    memoryMiB: 2048,
    minTasks: 2,
    maxTasks: 12,
    consumerGroups: ['ensemble.jobs', 'ensemble.jobs.planner', 'ensemble.usage-ledger'],
    scaleOutLag: 1000,
    scaleOutFastLag: 10000,
    scaleInLag: 100,
  },
  migrate: { cpu: 256, memoryMiB: 512 },
  stopTimeoutSeconds: 120,
  shutdownTimeoutMs: 100_000,
  logLevel: 'info',
  database: {
    instanceClass: 'm7g.large',
    engineVersion: '18.3',
    allocatedStorageGiB: 100,
    maxAllocatedStorageGiB: 500,
    multiAz: true,
    backupRetentionDays: 14,
    deletionProtection: true,
    poolSize: 10,
  },
  kafka: {
    mode: 'provisioned',
    auth: 'scram',
    kafkaVersion: '4.0.x.kraft',
    brokerInstanceType: 'kafka.m7g.large',
    brokerCount: 3,
    brokerStorageGiB: 200,
    topicPartitions: 12,
    replicationFactor: 3,
  },
  artifacts: { retainOnDelete: true },
  logs: { retentionDays: 90 },
  alarms: { http5xxPercent: 2, consumerLag: 100_000, databaseCpuPercent: 80, databaseFreeStoragePercent: 10 },
  bedrockModelArns: [],
};

export const presets: Readonly<Record<EnvironmentName, EnsembleConfig>> = { dev, prod };

/** Reads the CDK context (a key → value lookup such as `app.node.tryGetContext`) into a checked config. */
export function resolveConfig(context: (key: string) => unknown): EnsembleConfig {
  const envName = (context('env') ?? 'dev') as string;
  if (envName !== 'dev' && envName !== 'prod') {
    throw new ConfigError([`env: unknown environment '${envName}' (fix: -c env=dev or -c env=prod)`]);
  }
  let config = structuredClone(presets[envName]);
  const overrides = parseOverrides(context('ensemble'));
  config = deepMerge(config, overrides) as EnsembleConfig;

  const shorthand = (key: string) => {
    const value = context(key);
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  config.account = shorthand('account') ?? config.account ?? process.env.CDK_DEFAULT_ACCOUNT;
  config.region = shorthand('region') ?? config.region ?? process.env.CDK_DEFAULT_REGION;
  config.certificateArn = shorthand('certificateArn') ?? config.certificateArn;
  config.alarms.email = shorthand('alarmEmail') ?? config.alarms.email;
  const imageTag = shorthand('imageTag');
  if (imageTag)
    config.image = { kind: 'ecr', repositoryName: shorthand('imageRepository') ?? 'ensemble', tag: imageTag };
  const kafkaMode = shorthand('kafkaMode');
  if (kafkaMode) {
    config.kafka.mode = kafkaMode as EnsembleConfig['kafka']['mode'];
    if (kafkaMode === 'serverless') config.kafka.auth = 'iam';
  }
  const multiAz = shorthand('multiAz');
  if (multiAz) config.database.multiAz = multiAz === 'true';

  const problems = checkConfig(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid Ensemble infrastructure configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Every problem with a configuration, one line each naming the setting and the fix. */
export function checkConfig(config: EnsembleConfig): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };
  need(
    typeof config.certificateArn === 'string' &&
      /^arn:aws[\w-]*:acm:[\w-]+:\d{12}:certificate\/[\w-]+$/.test(config.certificateArn),
    'certificateArn: an ACM certificate ARN is required for the HTTPS listener (fix: -c certificateArn=arn:aws:acm:<region>:<account>:certificate/<id>)',
  );
  if (config.image.kind === 'ecr') {
    need(config.image.tag !== 'latest', 'imageTag: deploy an immutable tag (a version or commit), not latest');
  }
  for (const [name, size] of [
    ['api', config.api],
    ['worker', config.worker],
    ['migrate', config.migrate],
  ] as const) {
    need(
      validFargateSize(size),
      `${name}.cpu/memoryMiB: ${size.cpu}/${size.memoryMiB} is not a Fargate size (fix: e.g. 512/1024, 1024/2048)`,
    );
  }
  need(config.api.minTasks >= 1, 'api.minTasks: at least 1');
  need(config.api.maxTasks >= config.api.minTasks, 'api.maxTasks: must be at least api.minTasks');
  need(config.worker.minTasks >= 1, 'worker.minTasks: at least 1 (the outbox relay and consumers must run)');
  need(config.worker.maxTasks >= config.worker.minTasks, 'worker.maxTasks: must be at least worker.minTasks');
  need(
    config.worker.maxTasks <= config.kafka.topicPartitions,
    `worker.maxTasks: ${config.worker.maxTasks} workers for ${config.kafka.topicPartitions} partitions would leave some idle (fix: raise kafka.topicPartitions or lower worker.maxTasks)`,
  );
  need(config.worker.consumerGroups.length > 0, 'worker.consumerGroups: name at least one consumer group');
  need(
    config.worker.scaleInLag < config.worker.scaleOutLag && config.worker.scaleOutLag < config.worker.scaleOutFastLag,
    'worker.scaleInLag < worker.scaleOutLag < worker.scaleOutFastLag must hold',
  );
  need(
    config.stopTimeoutSeconds >= 2 && config.stopTimeoutSeconds <= 120,
    'stopTimeoutSeconds: Fargate allows 2 to 120 seconds',
  );
  need(
    config.shutdownTimeoutMs + 5_000 <= config.stopTimeoutSeconds * 1000,
    'shutdownTimeoutMs: must end at least 5 s before stopTimeoutSeconds, or ECS kills the drain',
  );
  need(
    config.database.backupRetentionDays >= 1,
    'database.backupRetentionDays: at least 1 (0 turns automated backups off)',
  );
  need(
    config.database.maxAllocatedStorageGiB >= config.database.allocatedStorageGiB,
    'database.maxAllocatedStorageGiB: must be at least database.allocatedStorageGiB',
  );
  need(/^\d+\.\d+$/.test(config.database.engineVersion), 'database.engineVersion: major.minor, e.g. 18.3');
  need(
    config.kafka.mode === 'provisioned' || config.kafka.mode === 'serverless',
    `kafka.mode: '${config.kafka.mode}' (fix: provisioned or serverless)`,
  );
  need(
    config.kafka.auth === 'scram' || config.kafka.auth === 'iam',
    `kafka.auth: '${config.kafka.auth}' (fix: scram or iam)`,
  );
  need(
    config.kafka.mode !== 'serverless' || config.kafka.auth === 'iam',
    'kafka.auth: MSK Serverless supports only IAM authentication (fix: kafka.auth=iam)',
  );
  if (config.kafka.mode === 'provisioned') {
    need(
      config.kafka.brokerCount % config.network.maxAzs === 0,
      `kafka.brokerCount: ${config.kafka.brokerCount} brokers cannot spread evenly over ${config.network.maxAzs} availability zones (fix: a multiple of network.maxAzs)`,
    );
    need(
      config.kafka.replicationFactor <= config.kafka.brokerCount,
      'kafka.replicationFactor: cannot exceed kafka.brokerCount',
    );
  }
  need(config.network.maxAzs >= 2, 'network.maxAzs: at least 2 (RDS and MSK need subnets in two zones)');
  need(config.network.natGateways >= 1, 'network.natGateways: at least 1 (tasks reach model providers through NAT)');
  need(config.logs.retentionDays >= 1, 'logs.retentionDays: at least 1');
  if (config.alarms.email !== undefined) {
    need(
      /^[^@\s]+@[^@\s]+$/.test(config.alarms.email),
      `alarmEmail: '${config.alarms.email}' is not an e-mail address`,
    );
  }
  return problems;
}

// Fargate's valid CPU/memory combinations (MiB).
function validFargateSize({ cpu, memoryMiB }: FargateSize): boolean {
  const gib = memoryMiB / 1024;
  switch (cpu) {
    case 256:
      return [512, 1024, 2048].includes(memoryMiB);
    case 512:
      return Number.isInteger(gib) && gib >= 1 && gib <= 4;
    case 1024:
      return Number.isInteger(gib) && gib >= 2 && gib <= 8;
    case 2048:
      return Number.isInteger(gib) && gib >= 4 && gib <= 16;
    case 4096:
      return Number.isInteger(gib) && gib >= 8 && gib <= 30;
    default:
      return false;
  }
}

function parseOverrides(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value === 'string') {
    try {
      return parseOverrides(JSON.parse(value));
    } catch (cause) {
      throw new ConfigError([`ensemble: the context value is not JSON (${(cause as Error).message})`]);
    }
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(['ensemble: the context value must be a JSON object of settings to override']);
  }
  return value as Record<string, unknown>;
}

function deepMerge(base: unknown, override: unknown, path = 'ensemble'): unknown {
  if (override === undefined) return base;
  if (isPlainObject(base) && isPlainObject(override)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) {
      if (!(key in base) && !optionalKeys.has(key)) {
        throw new ConfigError([`${path}.${key}: unknown setting (see packages/infra/src/config.ts)`]);
      }
      merged[key] = deepMerge(base[key], value, `${path}.${key}`);
    }
    return merged;
  }
  return override;
}

const optionalKeys = new Set([
  'account',
  'region',
  'certificateArn',
  'email',
  'pineconeIndex',
  'repositoryName',
  'tag',
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
