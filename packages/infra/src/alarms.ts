import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { EnsembleConfig } from './config.ts';

export interface EnsembleAlarmsProps {
  config: EnsembleConfig;
  loadBalancer: elbv2.ApplicationLoadBalancer;
  targetGroup: elbv2.ApplicationTargetGroup;
  database: rds.DatabaseInstance;
  consumerLag: cloudwatch.IMetric;
}

/**
 * The alarms an operator of Ensemble is paged for, all sent to one SNS topic (with an e-mail
 * subscription when `alarms.email` is set): the API's 5xx rate, unhealthy API tasks, PostgreSQL
 * CPU and free storage, and Kafka consumer lag that does not go down.
 */
export class EnsembleAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: EnsembleAlarmsProps) {
    super(scope, id);
    const { config, loadBalancer, targetGroup, database } = props;
    const env = config.envName;

    this.topic = new sns.Topic(this, 'Topic', { displayName: `Ensemble ${env} alarms`, enforceSSL: true });
    if (config.alarms.email) this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarms.email));
    const action = new actions.SnsAction(this.topic);
    const add = (alarm: cloudwatch.Alarm) => {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    };

    const fiveMinutes = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    const http5xxRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)',
      usingMetrics: {
        requests: loadBalancer.metrics.requestCount(fiveMinutes),
        target5xx: targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, fiveMinutes),
        elb5xx: loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, fiveMinutes),
      },
      label: '5xx responses (% of requests)',
      period: Duration.minutes(5),
    });
    add(
      http5xxRate.createAlarm(this, 'Http5xxRate', {
        alarmName: `ensemble-${env}-api-5xx-rate`,
        alarmDescription: `More than ${config.alarms.http5xxPercent}% of API requests answered 5xx over 5 minutes (twice in 3 periods)`,
        threshold: config.alarms.http5xxPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    add(
      targetGroup.metrics
        .unhealthyHostCount({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM })
        .createAlarm(this, 'UnhealthyHosts', {
          alarmName: `ensemble-${env}-api-unhealthy-hosts`,
          alarmDescription: 'API tasks failing the load balancer health check (/readyz) for 5 minutes',
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 5,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );

    add(
      database.metricCPUUtilization({ period: Duration.minutes(5) }).createAlarm(this, 'DatabaseCpu', {
        alarmName: `ensemble-${env}-database-cpu`,
        alarmDescription: `PostgreSQL CPU above ${config.alarms.databaseCpuPercent}% for 15 minutes`,
        threshold: config.alarms.databaseCpuPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
      }),
    );

    const freeStorageBytes =
      (config.database.allocatedStorageGiB * 1024 ** 3 * config.alarms.databaseFreeStoragePercent) / 100;
    add(
      database.metricFreeStorageSpace({ period: Duration.minutes(5) }).createAlarm(this, 'DatabaseFreeStorage', {
        alarmName: `ensemble-${env}-database-free-storage`,
        alarmDescription: `PostgreSQL free storage below ${config.alarms.databaseFreeStoragePercent}% of the allocated ${config.database.allocatedStorageGiB} GiB`,
        threshold: freeStorageBytes,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
      }),
    );

    add(
      new cloudwatch.Alarm(this, 'ConsumerLag', {
        alarmName: `ensemble-${env}-kafka-consumer-lag`,
        alarmDescription: `Kafka consumer lag above ${config.alarms.consumerLag} records for 15 minutes: workers are not keeping up (or are stuck)`,
        metric: props.consumerLag,
        threshold: config.alarms.consumerLag,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 15,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
