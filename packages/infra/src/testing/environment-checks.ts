import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { providerKeyNames } from '../data-stack.ts';
import {
  allowedOnEveryResource,
  type FoundStatement,
  isAccountRootPrincipal,
  onEveryResource,
  policyStatements,
} from './policy-statements.ts';
import type { SynthesizedEnvironment } from './synthesize-environment.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;

interface ContainerDefinition {
  Command: string[];
  Environment?: Array<{ Name: string; Value: unknown }>;
  Secrets?: Array<{ Name: string; ValueFrom: unknown }>;
  HealthCheck?: { Command: string[] };
  StopTimeout?: number;
}

/** The containers of the service stack's task definitions, by the `ensemble` command they run. */
export function containersByRole(
  environment: SynthesizedEnvironment,
): Record<'api' | 'worker' | 'migrate', ContainerDefinition> {
  const definitions = environment.service.findResources('AWS::ECS::TaskDefinition') as Resources;
  const byRole: Partial<Record<'api' | 'worker' | 'migrate', ContainerDefinition>> = {};
  for (const definition of Object.values(definitions)) {
    const [container] = definition.Properties.ContainerDefinitions as ContainerDefinition[];
    assert.ok(container);
    const role = container.Command[0] === 'start' ? 'api' : (container.Command[0] as 'worker' | 'migrate');
    byRole[role] = container;
  }
  assert.deepEqual(Object.keys(byRole).sort(), ['api', 'migrate', 'worker']);
  return byRole as Record<'api' | 'worker' | 'migrate', ContainerDefinition>;
}

const secretLooking = /(PASSWORD|SECRET|TOKEN|API_KEY|MASTER_KEY|ADMIN_KEY|CREDENTIAL)/i;

/**
 * The checks every environment must pass, registered as node:test tests against one synthesized
 * environment (synthesized once by the calling file).
 */
export function registerEnvironmentChecks(synthesize: () => SynthesizedEnvironment): void {
  let cached: SynthesizedEnvironment | undefined;
  const env = () => {
    cached ??= synthesize();
    return cached;
  };

  test('the API and the workers run as Fargate services in private subnets, with rolling deploys that roll back', () => {
    const services = env().service.findResources('AWS::ECS::Service') as Resources;
    const names = Object.values(services).map((service) => service.Properties.ServiceName);
    assert.deepEqual(names.sort(), ['api', 'worker']);
    for (const service of Object.values(services)) {
      assert.equal(service.Properties.LaunchType, 'FARGATE');
      assert.deepEqual(
        (service.Properties.NetworkConfiguration as { AwsvpcConfiguration: { AssignPublicIp: string } })
          .AwsvpcConfiguration.AssignPublicIp,
        'DISABLED',
      );
      assert.deepEqual(service.Properties.DeploymentConfiguration, {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MaximumPercent: 200,
        MinimumHealthyPercent: 100,
      });
    }
  });

  test('one image, three commands: start --no-worker, worker, migrate', () => {
    const containers = containersByRole(env());
    assert.deepEqual(containers.api.Command, ['start', '--no-worker']);
    assert.deepEqual(containers.worker.Command, ['worker']);
    assert.deepEqual(containers.migrate.Command, ['migrate']);
    assert.ok(String(containers.api.HealthCheck?.Command.join(' ')).includes('/healthz'));
    assert.equal(containers.api.StopTimeout, env().config.stopTimeoutSeconds);
    assert.equal(containers.worker.StopTimeout, env().config.stopTimeoutSeconds);
  });

  test('the load balancer serves HTTPS with the given certificate, redirects HTTP, and routes by /readyz', () => {
    const { service, config } = env();
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      Certificates: [{ CertificateArn: config.certificateArn }],
    });
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [
        Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) }),
      ],
    });
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/readyz',
      Port: 8080,
      TargetType: 'ip',
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: String(config.api.deregistrationDelaySeconds) },
      ]),
    });
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
  });

  test('the API scales on CPU and on requests per target; the workers on Kafka consumer lag', () => {
    const { service, config } = env();
    service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: config.api.cpuTargetPercent,
      }),
    });
    service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
        TargetValue: config.api.requestsPerTargetPerMinute,
      }),
    });
    const stepPolicies = service.findResources('AWS::ApplicationAutoScaling::ScalingPolicy', {
      Properties: { PolicyType: 'StepScaling' },
    });
    assert.equal(Object.keys(stepPolicies).length, 2, 'one scale-out and one scale-in step policy');
    // Each step policy is driven by an alarm on the lag metric Ensemble publishes.
    const alarms = Object.values(service.findResources('AWS::CloudWatch::Alarm') as Resources);
    for (const policyId of Object.keys(stepPolicies)) {
      const alarm = alarms.find((a) => JSON.stringify(a.Properties.AlarmActions).includes(`"${policyId}"`));
      assert.ok(alarm, `no alarm drives ${policyId}`);
      // One group: the metric itself; several: a math expression summing one metric per group.
      const metrics = (alarm.Properties.Metrics as Array<{ MetricStat?: { Metric: Record<string, unknown> } }>) ?? [
        { MetricStat: { Metric: alarm.Properties } },
      ];
      const groups = metrics
        .map((m) => m.MetricStat?.Metric)
        .filter((m) => m !== undefined)
        .map((m) => {
          assert.equal(m.Namespace, 'Ensemble');
          assert.equal(m.MetricName, 'KafkaConsumerLag');
          return (m.Dimensions as Array<{ Name: string; Value: string }>).find((d) => d.Name === 'ConsumerGroup')
            ?.Value;
        });
      assert.deepEqual(groups.sort(), [...config.worker.consumerGroups].sort());
    }
    const targets = service.findResources('AWS::ApplicationAutoScaling::ScalableTarget') as Resources;
    const ranges = Object.values(targets).map((t) => [t.Properties.MinCapacity, t.Properties.MaxCapacity]);
    assert.deepEqual(
      ranges.sort(),
      [
        [config.api.minTasks, config.api.maxTasks],
        [config.worker.minTasks, config.worker.maxTasks],
      ].sort(),
    );
  });

  test('PostgreSQL is encrypted, backed up, private, in isolated subnets', () => {
    const { data, network, config } = env();
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      StorageEncrypted: true,
      PubliclyAccessible: false,
      MultiAZ: config.database.multiAz,
      BackupRetentionPeriod: config.database.backupRetentionDays,
      DeletionProtection: config.database.deletionProtection,
    });
    const [instance] = Object.values(data.findResources('AWS::RDS::DBInstance')) as Array<{ DeletionPolicy: string }>;
    assert.equal(instance?.DeletionPolicy, 'Snapshot');
    // The subnet group holds only the network stack's isolated ("data") subnets.
    const [group] = Object.values(data.findResources('AWS::RDS::DBSubnetGroup')) as Resources[string][];
    const subnetRefs = JSON.stringify(group?.Properties.SubnetIds);
    const subnets = network.findResources('AWS::EC2::Subnet') as Resources;
    const isolated = Object.entries(subnets)
      .filter(([, subnet]) => JSON.stringify(subnet.Properties.Tags).includes('"Isolated"'))
      .map(([id]) => id);
    assert.equal(isolated.length, config.network.maxAzs);
    for (const id of isolated) assert.ok(subnetRefs.includes(id), `subnet group should use ${id}`);
    assert.ok(!/publicSubnet|appSubnet/i.test(subnetRefs), subnetRefs);
  });

  test('the artifacts bucket is encrypted, blocks public access and accepts only TLS', () => {
    const { data } = env();
    data.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    data.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('secrets reach the containers only as ECS secrets from Secrets Manager', () => {
    const containers = containersByRole(env());
    const secretNames = (role: keyof typeof containers) => (containers[role].Secrets ?? []).map((s) => s.Name).sort();
    const appSecrets = ['ENSEMBLE_MASTER_KEY', 'PGPASSWORD', ...providerKeyNames];
    for (const name of appSecrets) {
      assert.ok(secretNames('api').includes(name), `api lacks ${name}`);
      assert.ok(secretNames('worker').includes(name), `worker lacks ${name}`);
    }
    assert.ok(secretNames('api').includes('ENSEMBLE_ADMIN_KEY'));
    assert.ok(!secretNames('worker').includes('ENSEMBLE_ADMIN_KEY'), 'workers do not need the admin key');
    assert.deepEqual(secretNames('migrate'), ['PGPASSWORD']);
    for (const [role, container] of Object.entries(containers)) {
      for (const secret of container.Secrets ?? []) {
        assert.ok(
          isSecretsManagerReference(env(), secret.ValueFrom),
          `${role} ${secret.Name}: ${JSON.stringify(secret.ValueFrom)}`,
        );
      }
      for (const variable of container.Environment ?? []) {
        assert.ok(
          !secretLooking.test(variable.Name),
          `${role} passes ${variable.Name} as a plain environment variable`,
        );
      }
      const url = JSON.stringify(container.Environment?.find((v) => v.Name === 'DATABASE_URL')?.Value);
      assert.ok(url.includes('postgres://ensemble@'), 'DATABASE_URL carries no password');
    }
    const secrets = env().data.findResources('AWS::SecretsManager::Secret') as Resources;
    const names = Object.values(secrets).map((s) => s.Properties.Name);
    for (const name of ['database', 'master-key', 'admin-key', 'provider-keys']) {
      assert.ok(names.includes(`ensemble/${env().config.envName}/${name}`), `secret ${name}`);
    }
  });

  test('no IAM policy allows a * action, and * resources only where AWS offers nothing narrower', () => {
    const offending: FoundStatement[] = [];
    let count = 0;
    for (const { template } of env().all) {
      for (const statement of policyStatements(template)) {
        count++;
        if (statement.effect !== 'Allow') continue;
        if (statement.actions.includes('*')) offending.push(statement);
        if (!onEveryResource(statement)) continue;
        if (statement.type === 'AWS::KMS::Key') {
          // In a key policy `*` is the key itself; only the account (IAM decides) may be trusted so.
          if (!isAccountRootPrincipal(statement.principal)) offending.push(statement);
          continue;
        }
        const allowed = statement.actions.every((action) => allowedOnEveryResource[action]?.(statement));
        if (!allowed) offending.push(statement);
      }
    }
    assert.ok(count > 20, `found only ${count} policy statements: is the template walk broken?`);
    assert.deepEqual(offending, []);
  });

  test('no identity policy grants a whole service (service:*)', () => {
    for (const { template } of env().all) {
      for (const statement of policyStatements(template)) {
        if (statement.effect !== 'Allow' || statement.type === 'AWS::KMS::Key') continue;
        for (const action of statement.actions) {
          assert.ok(!/^[\w-]+:\*$/.test(action), `${statement.resource} allows ${action}`);
        }
      }
    }
  });

  test('task roles may protect only their own cluster’s tasks from scale-in', () => {
    const { service, config } = env();
    const policies = service.findResources('AWS::IAM::Policy') as Resources;
    const protecting = Object.entries(policies).filter(([, p]) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('ecs:UpdateTaskProtection'),
    );
    assert.equal(protecting.length, 2, 'the API and worker task roles');
    for (const [, policy] of protecting) {
      const text = JSON.stringify(policy.Properties.PolicyDocument);
      assert.ok(text.includes(`:task/ensemble-${config.envName}/*`), text);
    }
  });

  test('log groups keep logs for the configured time; alarms page through one topic', () => {
    const { service, data, config } = env();
    for (const template of [service, data]) {
      const groups = template.findResources('AWS::Logs::LogGroup') as Resources;
      for (const [id, group] of Object.entries(groups)) {
        assert.ok(Number(group.Properties.RetentionInDays) >= config.logs.retentionDays, `${id} has retention`);
      }
    }
    const alarms = service.findResources('AWS::CloudWatch::Alarm') as Resources;
    const paging = Object.values(alarms).filter((a) =>
      JSON.stringify(a.Properties.AlarmActions).includes('AlarmsTopic'),
    );
    const names = paging.map((a) => String(a.Properties.AlarmName)).sort();
    assert.deepEqual(
      names,
      ['api-5xx-rate', 'api-unhealthy-hosts', 'database-cpu', 'database-free-storage', 'kafka-consumer-lag']
        .map((n) => `ensemble-${config.envName}-${n}`)
        .sort(),
    );
  });

  test('the migration runs as a one-off task before the services roll', () => {
    const { service } = env();
    const migrations = service.findResources('Custom::EnsembleMigration') as Resources;
    const [id] = Object.keys(migrations);
    assert.ok(id);
    const services = service.findResources('AWS::ECS::Service') as Resources;
    for (const s of Object.values(services)) assert.ok(s.DependsOn?.includes(id), 'services depend on the migration');
  });
}

/**
 * True when an ECS secret's ValueFrom is the ARN of a Secrets Manager secret of the data stack
 * (optionally with a JSON key): a cross-stack reference whose output is a secret's Ref.
 */
function isSecretsManagerReference(environment: SynthesizedEnvironment, valueFrom: unknown): boolean {
  const text = JSON.stringify(valueFrom);
  const outputName = /"OutputName":"(\w+)"|"Fn::ImportValue":"[\w-]+:(\w+)"/.exec(text);
  const name = outputName?.[1] ?? outputName?.[2];
  if (!name) return false;
  const outputs = environment.data.toJSON().Outputs as Record<string, { Value: { Ref?: string } }>;
  const target = outputs[name]?.Value.Ref;
  if (!target) return false;
  const resource = (environment.data.toJSON().Resources as Resources)[target];
  return (
    resource?.Type === 'AWS::SecretsManager::Secret' || resource?.Type === 'AWS::SecretsManager::SecretTargetAttachment'
  );
}
