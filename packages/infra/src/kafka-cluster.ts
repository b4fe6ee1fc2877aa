import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { EnsembleConfig } from './config.ts';

export interface KafkaClusterProps {
  config: EnsembleConfig;
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
  /** Log retention of the broker logs. */
  logRetention: logs.RetentionDays;
}

/**
 * Amazon MSK for Ensemble's event bus: provisioned brokers (SASL/SCRAM or IAM) or MSK Serverless
 * (IAM), always TLS between clients and brokers and between brokers. CloudFormation does not return
 * a cluster's bootstrap brokers, so a custom resource reads them (kafka:GetBootstrapBrokers on this
 * cluster only).
 */
export class KafkaCluster extends Construct {
  readonly clusterArn: string;
  readonly clusterName: string;
  /** `host:port,host:port,…` for the configured authentication (KAFKA_BROKERS). */
  readonly bootstrapBrokers: string;
  readonly auth: 'scram' | 'iam';
  /** SASL/SCRAM credentials (JSON `username`, `password`), when auth is scram. */
  readonly scramSecret?: secretsmanager.ISecret;
  /** The customer-managed key of the SCRAM secret (and of the broker volumes), when provisioned. */
  readonly key?: kms.IKey;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    const { config, vpc, securityGroup } = props;
    const subnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds;
    this.clusterName = `ensemble-${config.envName}`;
    this.auth = config.kafka.auth;

    if (config.kafka.mode === 'serverless') {
      const cluster = new msk.CfnServerlessCluster(this, 'Serverless', {
        clusterName: this.clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds: subnets, securityGroups: [securityGroup.securityGroupId] }],
      });
      this.clusterArn = cluster.attrArn;
    } else {
      // One customer-managed key encrypts the broker volumes and the SCRAM secret (MSK requires a
      // customer-managed key on SCRAM secrets).
      const key = new kms.Key(this, 'Key', {
        description: `Ensemble ${config.envName}: MSK data at rest and SASL/SCRAM credentials`,
        enableKeyRotation: true,
        removalPolicy: config.artifacts.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      this.key = key;
      const brokerLogs = new logs.LogGroup(this, 'BrokerLogs', {
        logGroupName: `/ensemble/${config.envName}/msk`,
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const cluster = new msk.CfnCluster(this, 'Provisioned', {
        clusterName: this.clusterName,
        kafkaVersion: config.kafka.kafkaVersion,
        numberOfBrokerNodes: config.kafka.brokerCount,
        brokerNodeGroupInfo: {
          instanceType: config.kafka.brokerInstanceType,
          clientSubnets: subnets,
          securityGroups: [securityGroup.securityGroupId],
          storageInfo: { ebsStorageInfo: { volumeSize: config.kafka.brokerStorageGiB } },
        },
        clientAuthentication: {
          sasl: config.kafka.auth === 'scram' ? { scram: { enabled: true } } : { iam: { enabled: true } },
          unauthenticated: { enabled: false },
        },
        encryptionInfo: {
          encryptionAtRest: { dataVolumeKmsKeyId: key.keyArn },
          encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
        },
        enhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
        loggingInfo: {
          brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } },
        },
      });
      this.clusterArn = cluster.attrArn;

      if (config.kafka.auth === 'scram') {
        // MSK only accepts SCRAM secrets whose name starts with AmazonMSK_ and that use a customer key.
        const secret = new secretsmanager.Secret(this, 'ScramSecret', {
          secretName: `AmazonMSK_ensemble-${config.envName}`,
          description: `Ensemble ${config.envName}: SASL/SCRAM credentials for MSK (KAFKA_SASL_USERNAME/PASSWORD)`,
          encryptionKey: key,
          generateSecretString: {
            secretStringTemplate: JSON.stringify({ username: 'ensemble' }),
            generateStringKey: 'password',
            excludePunctuation: true,
            passwordLength: 40,
          },
        });
        new msk.CfnBatchScramSecret(this, 'ScramSecretAssociation', {
          clusterArn: cluster.attrArn,
          secretArnList: [secret.secretArn],
        });
        this.scramSecret = secret;
      }
    }

    const brokerField = this.auth === 'scram' ? 'BootstrapBrokerStringSaslScram' : 'BootstrapBrokerStringSaslIam';
    const lookup = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onUpdate: {
        service: 'Kafka',
        action: 'getBootstrapBrokers',
        parameters: { ClusterArn: this.clusterArn },
        physicalResourceId: cr.PhysicalResourceId.of(`${this.clusterName}-bootstrap-brokers`),
        outputPaths: [brokerField],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['kafka:GetBootstrapBrokers'], resources: [this.clusterArn] }),
      ]),
      installLatestAwsSdk: false,
    });
    this.bootstrapBrokers = lookup.getResponseField(brokerField);
  }

  /**
   * The Kafka data-plane permissions Ensemble needs with IAM auth: connect, create and use its
   * `ensemble.*` topics, and its consumer groups — on this cluster only.
   */
  grantClientAccess(grantee: iam.IGrantable): void {
    if (this.auth !== 'iam') return;
    const stack = Stack.of(this);
    // arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> → the uuid names its topics and groups.
    const uuid = Fn.select(2, Fn.split('/', this.clusterArn));
    const arn = (resource: string, name: string) =>
      stack.formatArn({ service: 'kafka', resource, resourceName: `${this.clusterName}/${uuid}/${name}` });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
        resources: [this.clusterArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'kafka-cluster:CreateTopic',
          'kafka-cluster:DescribeTopic',
          'kafka-cluster:DescribeTopicDynamicConfiguration',
          'kafka-cluster:ReadData',
          'kafka-cluster:WriteData',
        ],
        resources: [arn('topic', 'ensemble.*')],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
        resources: [arn('group', '*')],
      }),
    );
  }
}
