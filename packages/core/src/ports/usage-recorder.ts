import type { UsageEvent } from '../usage/usage-event.ts';

/**
 * Where the gateway hands a finished call's usage. `record` never blocks and never throws: the
 * request path must not wait on Kafka or PostgreSQL. Implementations buffer, batch and publish to
 * `ensemble.usage`; when the buffer is full they drop and count (a metric says how many).
 */
export interface UsageRecorder {
  record(event: UsageEvent): void;
  /** Publishes what is buffered; called on shutdown so no record is lost. */
  flush(): Promise<void>;
}
