import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { EnsembleConfig } from './config.ts';

export interface NetworkStackProps extends StackProps {
  config: EnsembleConfig;
}

/** Kafka client ports on MSK: 9096 SASL/SCRAM over TLS, 9098 IAM over TLS. */
export const kafkaClientPorts = { scram: 9096, iam: 9098 } as const;
export const apiContainerPort = 8080;

/**
 * The VPC and every security group, with all their rules, so that the data and service stacks only
 * consume them (no rule crosses a stack boundary, hence no dependency cycle):
 * internet → load balancer (443, 80) → API tasks (8080) ; tasks → PostgreSQL (5432), MSK (TLS ports).
 */
export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly appSecurityGroup: ec2.SecurityGroup;
  readonly databaseSecurityGroup: ec2.SecurityGroup;
  readonly kafkaSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { network } = props.config;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(network.cidr),
      maxAzs: network.maxAzs,
      natGateways: network.natGateways,
      subnetConfiguration: [
        // The load balancer and the NAT gateways.
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        // Fargate tasks: no public address, egress through NAT to model providers and AWS APIs.
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        // PostgreSQL and Kafka: no route to or from the internet.
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // S3 traffic (artifacts, model files) stays off the NAT gateways, and costs nothing.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });

    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: 'Ensemble load balancer: HTTPS (and HTTP, redirected) from anywhere',
      allowAllOutbound: false,
    });
    this.loadBalancerSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS');
    this.loadBalancerSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP, redirected to HTTPS');

    this.appSecurityGroup = new ec2.SecurityGroup(this, 'AppSecurityGroup', {
      vpc: this.vpc,
      description: 'Ensemble tasks (API, workers, migrations)',
      // Tasks call model providers, Pinecone and AWS APIs on the internet through NAT.
      allowAllOutbound: true,
    });
    this.appSecurityGroup.addIngressRule(
      this.loadBalancerSecurityGroup,
      ec2.Port.tcp(apiContainerPort),
      'API traffic from the load balancer',
    );
    this.loadBalancerSecurityGroup.addEgressRule(
      this.appSecurityGroup,
      ec2.Port.tcp(apiContainerPort),
      'to the API tasks (traffic and health checks)',
    );

    this.databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc: this.vpc,
      description: 'Ensemble PostgreSQL: only from Ensemble tasks',
      allowAllOutbound: false,
    });
    this.databaseSecurityGroup.addIngressRule(
      this.appSecurityGroup,
      ec2.Port.tcp(5432),
      'PostgreSQL from Ensemble tasks',
    );

    this.kafkaSecurityGroup = new ec2.SecurityGroup(this, 'KafkaSecurityGroup', {
      vpc: this.vpc,
      description: 'Ensemble MSK: only from Ensemble tasks, TLS ports',
      allowAllOutbound: false,
    });
    this.kafkaSecurityGroup.addIngressRule(
      this.appSecurityGroup,
      ec2.Port.tcp(kafkaClientPorts.scram),
      'Kafka SASL/SCRAM over TLS from Ensemble tasks',
    );
    this.kafkaSecurityGroup.addIngressRule(
      this.appSecurityGroup,
      ec2.Port.tcp(kafkaClientPorts.iam),
      'Kafka IAM over TLS from Ensemble tasks',
    );
  }
}
