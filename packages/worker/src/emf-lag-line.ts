/**
 * One CloudWatch Embedded Metric Format document: metric `KafkaConsumerLag` (Count) with dimension
 * `ConsumerGroup` in `namespace`, as one JSON line with nothing around it (the format's rule). CloudWatch
 * Logs turns it into a metric point; the dimension's value is the group, the metric's value the lag.
 */
export function emfLagLine(namespace: string, consumerGroup: string, lag: number, timestampMs: number): string {
  const document = {
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [['ConsumerGroup']],
          Metrics: [{ Name: 'KafkaConsumerLag', Unit: 'Count' }],
        },
      ],
    },
    ConsumerGroup: consumerGroup,
    KafkaConsumerLag: lag,
  };
  return `${JSON.stringify(document)}\n`;
}
