import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

export interface MigrationRunnerProps {
  cluster: ecs.ICluster;
  taskDefinition: ecs.FargateTaskDefinition;
  containerName: string;
  subnets: ec2.SubnetSelection;
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
  logRetention: logs.RetentionDays;
  /** Longest a migration may run before the deploy fails. */
  timeout: Duration;
}

const handlerDirectory = join(fileURLToPath(new URL('.', import.meta.url)), 'handler');

/**
 * Runs the one-off `ensemble migrate` task on every deploy whose migration task definition changed
 * (a new image means a new revision) and waits for it to exit 0. Make the services depend on this
 * construct: CloudFormation then migrates first and rolls the services only after a successful
 * migration; a failed one fails the deploy before any running task is replaced.
 */
export class MigrationRunner extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: MigrationRunnerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const code = lambda.Code.fromAsset(handlerDirectory, { exclude: ['*.d.mts'] });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const common = {
      runtime: lambda.Runtime.NODEJS_22_X,
      code,
      timeout: Duration.seconds(30),
      memorySize: 256,
      logGroup,
    } as const;
    const onEvent = new lambda.Function(this, 'OnEvent', { ...common, handler: 'index.onEvent' });
    const isComplete = new lambda.Function(this, 'IsComplete', { ...common, handler: 'index.isComplete' });

    // RunTask on this task definition family, in this cluster only; pass only its two roles.
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [
          stack.formatArn({
            service: 'ecs',
            resource: 'task-definition',
            resourceName: `${props.taskDefinition.family}:*`,
          }),
        ],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );
    const passRoles = [props.taskDefinition.taskRole.roleArn];
    if (props.taskDefinition.executionRole) passRoles.push(props.taskDefinition.executionRole.roleArn);
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: passRoles }));
    isComplete.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeTasks'],
        resources: [
          stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${props.cluster.clusterName}/*` }),
        ],
      }),
    );

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(15),
      totalTimeout: props.timeout,
      logGroup,
    });

    this.resource = new CustomResource(this, 'Migration', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::EnsembleMigration',
      properties: {
        Cluster: props.cluster.clusterArn,
        // A new revision on every image change: that is what triggers a migration.
        TaskDefinition: props.taskDefinition.taskDefinitionArn,
        ContainerName: props.containerName,
        Subnets: props.vpc.selectSubnets(props.subnets).subnetIds,
        SecurityGroups: [props.securityGroup.securityGroupId],
      },
    });
  }
}
