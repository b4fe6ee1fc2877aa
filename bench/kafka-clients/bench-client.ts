/** What the benchmark needs from a Kafka client; each client under test implements it once. */
export interface BenchClient {
  readonly name: string;
  /** Sends one batch and resolves when every record is acknowledged by all in-sync replicas. */
  produce(topic: string, messages: readonly BenchMessage[]): Promise<void>;
  /** Joins a new consumer group and calls `onMessage` for every record, from the earliest offset. */
  consume(groupId: string, topic: string, onMessage: (key: string) => void): Promise<BenchConsumer>;
  close(): Promise<void>;
}

export interface BenchConsumer {
  close(): Promise<void>;
}

export interface BenchMessage {
  key: string;
  value: string;
}
