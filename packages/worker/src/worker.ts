import {
  type EventBus,
  type Logger,
  noScaleInProtection,
  type ScaleInProtection,
  type SubscribeOptions,
  type Subscription,
} from '@ensemble/core';

/** A loop that runs beside the consumers, such as the outbox relay. */
export interface BackgroundService {
  readonly name: string;
  start(): void | Promise<void>;
  /** Finishes the work in hand and stops; must not throw. */
  stop(): Promise<void>;
}

/** A consumer a domain contributes (jobs, usage ledger, ingestion): a named subscription. */
export type ConsumerDefinition = SubscribeOptions & { readonly name: string };

export interface WorkerOptions {
  bus: EventBus;
  logger: Logger;
  services?: readonly BackgroundService[];
  consumers?: readonly ConsumerDefinition[];
  /** Held while a handler runs, so the orchestrator does not stop this task mid-record. */
  protection?: ScaleInProtection;
}

export interface RunningWorker {
  /** Stops taking new records, drains in-flight handlers, stops the services. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs the consumers and background services of one process. The same code runs inside
 * `ensemble start` and as `ensemble worker`; scaling out is running more of them, up to the
 * partition count of each topic.
 */
export async function startWorker({
  bus,
  logger,
  services = [],
  consumers = [],
  protection = noScaleInProtection,
}: WorkerOptions): Promise<RunningWorker> {
  const started: BackgroundService[] = [];
  const subscriptions: Subscription[] = [];
  let stopping: Promise<void> | undefined;

  const stop = () => {
    stopping ??= (async () => {
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
      await Promise.all(started.map((service) => service.stop()));
      logger.info({ consumers: subscriptions.length, services: started.length }, 'worker stopped');
    })();
    return stopping;
  };

  try {
    for (const service of services) {
      await service.start();
      started.push(service);
    }
    for (const { name, ...options } of consumers) {
      const held = async (work: () => Promise<void>) => {
        const release = protection.hold(name);
        try {
          await work();
        } finally {
          release();
        }
      };
      const { handler, batch } = options;
      subscriptions.push(
        await bus.subscribe(
          batch === undefined
            ? { ...options, handler: (message, signal) => held(() => handler(message, signal)) }
            : {
                ...options,
                batch: { ...batch, handler: (messages, signal) => held(() => batch.handler(messages, signal)) },
              },
        ),
      );
      logger.info({ consumer: name, topics: options.topics, groupId: options.groupId }, 'consumer started');
    }
  } catch (error) {
    await stop();
    throw error;
  }
  logger.info(
    { services: services.map((s) => s.name), consumers: consumers.map((c) => c.name), bus: bus.kind },
    'worker running',
  );
  return { stop };
}
