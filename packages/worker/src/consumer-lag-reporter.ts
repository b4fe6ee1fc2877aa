import type { EventBus, Logger } from '@ensemble/core';
import type { ConsumerLagGroup } from './consumer-lag-groups.ts';
import { emfLagLine } from './emf-lag-line.ts';
import type { BackgroundService } from './worker.ts';

export interface ConsumerLagReporterOptions {
  bus: Pick<EventBus, 'consumerLag'>;
  /** Read at every report, so the groups may grow. */
  groups: () => readonly ConsumerLagGroup[];
  intervalSeconds: number;
  logger: Logger;
  /** CloudWatch namespace of the metric. Default `Ensemble`. */
  namespace?: string;
  /** Where the EMF lines go; stdout by default, which the ECS awslogs driver ships to CloudWatch Logs. */
  output?: { write(line: string): unknown };
  /** How long one group's lag may take to read. Default the interval, at most 10 s. */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Every `intervalSeconds` (first at start), writes each consumer group's total lag as one CloudWatch
 * Embedded Metric Format line: `Ensemble/KafkaConsumerLag` by `ConsumerGroup`, the metric the ECS
 * workers scale on. No SDK and no PutMetricData: CloudWatch Logs extracts the metric from the log line.
 * A group whose lag cannot be read is skipped (and logged) for that round.
 */
export class ConsumerLagReporter implements BackgroundService {
  readonly name = 'consumer-lag-reporter';
  readonly #options: ConsumerLagReporterOptions;
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(options: ConsumerLagReporterOptions) {
    if (!Number.isFinite(options.intervalSeconds) || options.intervalSeconds <= 0) {
      throw new Error('intervalSeconds must be a positive number');
    }
    this.#options = options;
  }

  start(): void {
    this.#tick();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    clearTimeout(this.#timer);
    await this.#inFlight;
  }

  /** One report of every group; resolves when its lines are written. Never throws. */
  async report(): Promise<void> {
    const { bus, logger, groups, namespace = 'Ensemble', output = process.stdout, now = Date.now } = this.#options;
    const intervalMs = this.#options.intervalSeconds * 1000;
    const timeoutMs = this.#options.timeoutMs ?? Math.min(intervalMs, 10_000);
    await Promise.all(
      groups().map(async ({ groupId, topics }) => {
        try {
          const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(timeoutMs)]);
          const rows = await bus.consumerLag(groupId, topics, signal);
          const lag = rows.reduce((sum, row) => sum + row.lag, 0);
          output.write(emfLagLine(namespace, groupId, lag, now()));
        } catch (error) {
          if (!this.#stop.signal.aborted) logger.warn({ err: error, groupId }, 'consumer lag could not be read');
        }
      }),
    );
  }

  #tick(): void {
    if (this.#stop.signal.aborted) return;
    this.#inFlight = this.report().finally(() => {
      this.#inFlight = undefined;
      if (this.#stop.signal.aborted) return;
      // The next round starts an interval after this one ends, so slow rounds never pile up.
      this.#timer = setTimeout(() => this.#tick(), this.#options.intervalSeconds * 1000);
      this.#timer.unref();
    });
  }
}
