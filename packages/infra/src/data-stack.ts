import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { EnsembleConfig } from './config.ts';
import { KafkaCluster } from './kafka-cluster.ts';
import type { NetworkStack } from './network-stack.ts';

export interface DataStackProps extends StackProps {
  config: EnsembleConfig;
  network: NetworkStack;
}

/** The names of the provider keys kept in one JSON secret and injected as environment variables. */
export const providerKeyNames = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'PINECONE_API_KEY'] as const;

/**
 * Everything stateful: PostgreSQL (RDS), Kafka (MSK), the artifacts bucket (S3) and the
 * application's secrets (Secrets Manager). Kept apart from the services so that redeploying or
 * replacing them never touches the data.
 */
export class DataStack extends Stack {
  readonly database: rds.DatabaseInstance;
  /** RDS-generated credentials: JSON with username, password, host, port, dbname. */
  readonly databaseSecret: secretsmanager.ISecret;
  readonly databaseName = 'ensemble';
  readonly databaseUser = 'ensemble';
  readonly kafka: KafkaCluster;
  readonly artifactsBucket: s3.Bucket;
  /** Encrypts stored provider credentials (ENSEMBLE_MASTER_KEY). Generated. */
  readonly masterKeySecret: secretsmanager.Secret;
  /** The first administrator's API key (ENSEMBLE_ADMIN_KEY). Generated. */
  readonly adminKeySecret: secretsmanager.Secret;
  /** JSON of providerKeyNames, empty until an operator fills them in. */
  readonly providerKeysSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config, network } = props;
    const logRetention = retentionDays(config.logs.retentionDays);
    const instanceIdentifier = `ensemble-${config.envName}`;

    // RDS writes its logs here; creating the group ourselves sets the retention without the
    // log-retention Lambda that `cloudwatchLogsRetention` would add.
    new logs.LogGroup(this, 'DatabaseLogs', {
      logGroupName: `/aws/rds/instance/${instanceIdentifier}/postgresql`,
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.database = new rds.DatabaseInstance(this, 'Database', {
      instanceIdentifier,
      engine: rds.DatabaseInstanceEngine.postgres({ version: postgresVersion(config.database.engineVersion) }),
      instanceType: new ec2.InstanceType(config.database.instanceClass),
      vpc: network.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [network.databaseSecurityGroup],
      publiclyAccessible: false,
      multiAz: config.database.multiAz,
      databaseName: this.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret(this.databaseUser, {
        secretName: `ensemble/${config.envName}/database`,
        excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\=,',
      }),
      storageType: rds.StorageType.GP3,
      allocatedStorage: config.database.allocatedStorageGiB,
      maxAllocatedStorage: config.database.maxAllocatedStorageGiB,
      storageEncrypted: true,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      backupRetention: Duration.days(config.database.backupRetentionDays),
      preferredBackupWindow: '03:00-04:00',
      preferredMaintenanceWindow: 'sun:04:30-sun:05:30',
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: false,
      deletionProtection: config.database.deletionProtection,
      // Deleting the stack leaves a final snapshot, in every environment.
      removalPolicy: RemovalPolicy.SNAPSHOT,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: ['postgresql'],
      parameters: {
        // Refuse unencrypted connections (the default on PostgreSQL 15+, stated here on purpose).
        'rds.force_ssl': '1',
        log_min_duration_statement: '1000',
      },
    });
    // biome-ignore lint/style/noNonNullAssertion: fromGeneratedSecret always creates the secret.
    this.databaseSecret = this.database.secret!;

    this.kafka = new KafkaCluster(this, 'Kafka', {
      config,
      vpc: network.vpc,
      securityGroup: network.kafkaSecurityGroup,
      logRetention,
    });

    this.artifactsBucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        { noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy: config.artifacts.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !config.artifacts.retainOnDelete,
    });

    const secretRemoval = config.artifacts.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.masterKeySecret = new secretsmanager.Secret(this, 'MasterKey', {
      secretName: `ensemble/${config.envName}/master-key`,
      description: 'Ensemble: key that encrypts stored provider credentials (ENSEMBLE_MASTER_KEY)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: secretRemoval,
    });
    this.adminKeySecret = new secretsmanager.Secret(this, 'AdminKey', {
      secretName: `ensemble/${config.envName}/admin-key`,
      description: "Ensemble: the first administrator's API key (ENSEMBLE_ADMIN_KEY)",
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: secretRemoval,
    });
    // Created with every key present and empty ("not configured"): ECS fails a task whose secret
    // lacks a referenced JSON key, so the keys must exist before the first deploy.
    this.providerKeysSecret = new secretsmanager.Secret(this, 'ProviderKeys', {
      secretName: `ensemble/${config.envName}/provider-keys`,
      description: `Ensemble: model provider and Pinecone API keys (${providerKeyNames.join(', ')}); empty means not configured`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(Object.fromEntries(providerKeyNames.map((name) => [name, '']))),
        // generateSecretString needs one generated field; it is not used by Ensemble.
        generateStringKey: 'GENERATED_PLACEHOLDER',
        excludePunctuation: true,
      },
      removalPolicy: secretRemoval,
    });
  }
}

/** CloudWatch accepts only some retention periods: the nearest one at or above `days`. */
export function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays)
    .filter((value): value is number => typeof value === 'number' && value > 0)
    .sort((a, b) => a - b);
  const match = allowed.find((value) => value >= days) ?? allowed[allowed.length - 1];
  return match as logs.RetentionDays;
}

function postgresVersion(majorMinor: string): rds.PostgresEngineVersion {
  const [major] = majorMinor.split('.');
  return rds.PostgresEngineVersion.of(majorMinor, major as string);
}
