import { type Logger, type RetryPolicy, retryDelayMs, type Subscription } from '@ensemble/core';
import { ConsumerSession, type ConsumerSessionOptions } from './consumer-session.ts';
import { sleep } from './with-deadline.ts';

/** How soon a subscription tries again after losing the broker or its group. */
const reconnectPolicy: RetryPolicy = { initialDelayMs: 250, maxDelayMs: 5_000 };

/**
 * A subscription outlives broker outages: it runs one consumer session after another, with backoff,
 * until it is closed. Each new session resumes from the group's committed offsets, so a record whose
 * handler had not finished is delivered again (at least once) and none is skipped.
 */
export class KafkaSubscription implements Subscription {
  readonly groupId: string;
  readonly #options: Omit<ConsumerSessionOptions, 'logger'>;
  readonly #logger: Logger;
  readonly #closing = new AbortController();
  readonly #loop: Promise<void>;
  #closed: Promise<void> | undefined;

  constructor(options: ConsumerSessionOptions) {
    this.groupId = options.groupId;
    this.#logger = options.logger.child({ groupId: options.groupId, topics: options.topics });
    this.#options = options;
    this.#loop = this.#run();
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort();
      await this.#loop;
      this.#logger.debug({}, 'subscription closed');
    })();
    return this.#closed;
  }

  async #run(): Promise<void> {
    const signal = this.#closing.signal;
    for (let failures = 0; !signal.aborted; ) {
      const session = new ConsumerSession({ ...this.#options, logger: this.#logger });
      const started = Date.now();
      const failure = await session.run(signal);
      await session.stop();
      if (signal.aborted) break;
      // A session that lasted a while was healthy: start the backoff over.
      failures = Date.now() - started > 30_000 ? 1 : failures + 1;
      const waitMs = retryDelayMs(reconnectPolicy, failures);
      this.#logger.warn(
        { err: failure, attempt: failures, retryInMs: waitMs },
        'the Kafka consumer lost its broker or group; reconnecting',
      );
      await sleep(waitMs, signal);
    }
  }
}
