import { randomUUID } from 'node:crypto';
import type { BatchDelivery, Logger, PublishRecord, RetryPolicy, Subscription } from '@ensemble/core';
import { sql } from 'kysely';
import type pg from 'pg';
import { advisoryLockKey } from '../postgres/advisory-lock-key.ts';
import type { Database } from '../postgres/create-database.ts';
import { isDatabaseUnavailable, mapDatabaseError } from '../postgres/database-errors.ts';
import { jitter, pause } from '../postgres/pause.ts';
import { busChannel } from './bus-log.ts';
import { PartitionConsumer } from './partition-consumer.ts';
import { Semaphore } from './semaphore.ts';
import { WakeSignal } from './wake-signal.ts';

export interface EmbeddedSubscriptionOptions {
  database: Database;
  groupId: string;
  /** Topic names with their partition counts. */
  topics: ReadonlyMap<string, number>;
  delivery: BatchDelivery;
  retry: RetryPolicy;
  deadLetterTopic: string | undefined;
  concurrency: number;
  publish: (records: readonly PublishRecord[]) => Promise<void>;
  pollIntervalMs: number;
  batchSize: number;
  rebalanceIntervalMs: number;
  memberTimeoutMs: number;
  closeTimeoutMs: number;
  logger: Logger;
}

/**
 * One subscriber of a consumer group. It owns partitions by holding session advisory locks on a
 * connection of its own, one lock per (group, topic, partition), so a partition has one consumer in
 * the group at a time across processes, and a process that dies frees its partitions with its
 * connection. Members heartbeat in `bus_group_members`; each takes at most its fair share
 * (ceil(partitions / live members)) and gives back partitions above it, after committing.
 * The same connection LISTENs for publishers' notifications.
 */
export class EmbeddedSubscription implements Subscription {
  readonly groupId: string;
  readonly #options: EmbeddedSubscriptionOptions;
  readonly #logger: Logger;
  readonly #memberId = randomUUID();
  readonly #semaphore: Semaphore;
  readonly #owned = new Map<string, PartitionConsumer>();
  readonly #tick = new WakeSignal();
  readonly #closing = new AbortController();
  #client: pg.Client | undefined;
  #loop: Promise<void> = Promise.resolve();
  #closed: Promise<void> | undefined;

  constructor(options: EmbeddedSubscriptionOptions) {
    this.#options = options;
    this.groupId = options.groupId;
    this.#semaphore = new Semaphore(options.concurrency);
    this.#logger = options.logger.child({ groupId: options.groupId, member: this.#memberId.slice(0, 8) });
  }

  /** Connects and takes a first share of partitions; fails with `event_bus_unavailable` if it cannot. */
  async start(): Promise<void> {
    try {
      await this.#connect();
      await this.#rebalance();
    } catch (error) {
      await this.#disconnect();
      throw mapDatabaseError(error, 'event_bus_unavailable');
    }
    this.#loop = this.#coordinate();
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing.abort();
    await this.#loop;
    const consumers = [...this.#owned.values()];
    const overdue = setTimeout(() => {
      this.#logger.warn({ ms: this.#options.closeTimeoutMs }, 'handlers are slow to finish; cancelling them');
      for (const consumer of consumers) consumer.cancelHandler();
    }, this.#options.closeTimeoutMs);
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    clearTimeout(overdue);
    this.#owned.clear();
    await this.#options.database.db
      .deleteFrom('bus_group_members')
      .where('group_id', '=', this.groupId)
      .where('member_id', '=', this.#memberId)
      .execute()
      .catch(() => undefined);
    // Ending the session releases the partition locks.
    await this.#disconnect();
  }

  async #coordinate(): Promise<void> {
    const closing = this.#closing.signal;
    let failures = 0;
    while (!closing.aborted) {
      const generation = this.#tick.generation;
      try {
        if (!this.#client) await this.#connect();
        await this.#rebalance();
        failures = 0;
      } catch (error) {
        failures++;
        this.#logger.warn({ err: String(error), failures }, 'could not coordinate partitions; retrying');
        if (isDatabaseUnavailable(error)) await this.#loseAll();
      }
      const wait = failures > 0 ? Math.min(5_000, this.#options.rebalanceIntervalMs * 2 ** (failures - 1)) : 0;
      await pause(wait, closing);
      await this.#tick.wait(generation, jitter(this.#options.rebalanceIntervalMs), closing);
    }
  }

  async #connect(): Promise<void> {
    const client = this.#options.database.dedicatedClient({
      statementTimeoutMs: 0,
      applicationName: 'ensemble-bus-consumer',
    });
    const lost = (error?: Error) => {
      if (this.#client !== client) return;
      this.#logger.warn({ err: error?.message }, 'lost the event bus connection; its partitions are released');
      this.#client = undefined;
      void this.#loseAll();
      this.#tick.notify();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      for (const consumer of this.#owned.values()) {
        if (consumer.topic === message.payload) consumer.wake();
      }
    });
    await client.connect();
    await client.query(`listen ${busChannel}`);
    this.#client = client;
  }

  async #disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** The partition locks died with the connection: stop every consumer, cancelling its handler. */
  async #loseAll(): Promise<void> {
    const consumers = [...this.#owned.values()];
    this.#owned.clear();
    await Promise.all(consumers.map((consumer) => consumer.stop(true)));
  }

  async #rebalance(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const { db } = this.#options.database;
    const topics = [...this.#options.topics.keys()];
    await db
      .insertInto('bus_group_members')
      .values(topics.map((topic) => ({ group_id: this.groupId, topic, member_id: this.#memberId })))
      .onConflict((conflict) =>
        conflict.columns(['group_id', 'topic', 'member_id']).doUpdateSet({ heartbeat_at: sql`now()` }),
      )
      .execute();
    const members = await db
      .selectFrom('bus_group_members')
      .select(['topic', (eb) => eb.fn.countAll<string>().as('count')])
      .where('group_id', '=', this.groupId)
      .where('topic', 'in', topics)
      .where('heartbeat_at', '>', sql<Date>`now() - make_interval(secs => ${this.#options.memberTimeoutMs / 1000})`)
      .groupBy('topic')
      .execute();
    const memberCount = new Map(members.map((row) => [row.topic, Math.max(1, Number(row.count))]));

    for (const [topic, partitions] of this.#options.topics) {
      if (this.#closing.signal.aborted || this.#client !== client) return;
      const share = Math.ceil(partitions / (memberCount.get(topic) ?? 1));
      const mine = [...this.#owned.values()].filter((consumer) => consumer.topic === topic);
      for (const consumer of mine
        .sort((a, b) => b.partition - a.partition)
        .slice(0, Math.max(0, mine.length - share))) {
        await this.#release(client, consumer);
      }
      if (mine.length < share) await this.#acquire(client, topic, partitions, share - mine.length);
    }
  }

  async #acquire(client: pg.Client, topic: string, partitions: number, wanted: number): Promise<void> {
    const held = await heldAdvisoryLocks(client);
    // Start at a different partition per member, so members starting together spread out.
    const first = Number.parseInt(this.#memberId.slice(0, 8), 16) % partitions;
    let taken = 0;
    for (let i = 0; i < partitions && taken < wanted; i++) {
      const partition = (first + i) % partitions;
      const id = `${topic}\u0000${partition}`;
      const key = advisoryLockKey('ensemble-bus', this.groupId, topic, partition);
      if (this.#owned.has(id) || held.has(key)) continue;
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [
        key,
      ]);
      if (!rows[0]?.locked) continue;
      if (this.#closing.signal.aborted || this.#client !== client) {
        await client.query('select pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
        return;
      }
      const consumer = new PartitionConsumer({
        db: this.#options.database.db,
        groupId: this.groupId,
        topic,
        partition,
        delivery: this.#options.delivery,
        retry: this.#options.retry,
        deadLetterTopic: this.#options.deadLetterTopic,
        publish: this.#options.publish,
        semaphore: this.#semaphore,
        pollIntervalMs: this.#options.pollIntervalMs,
        batchSize: this.#options.batchSize,
        logger: this.#logger,
      });
      this.#owned.set(id, consumer);
      consumer.start();
      taken++;
      this.#logger.debug({ topic, partition }, 'took a partition');
    }
  }

  /** Gives a partition back: the consumer finishes its record and commits before the lock goes. */
  async #release(client: pg.Client, consumer: PartitionConsumer): Promise<void> {
    this.#owned.delete(`${consumer.topic}\u0000${consumer.partition}`);
    await consumer.stop();
    const key = advisoryLockKey('ensemble-bus', this.groupId, consumer.topic, consumer.partition);
    await client.query('select pg_advisory_unlock($1::bigint)', [key]);
    this.#logger.debug({ topic: consumer.topic, partition: consumer.partition }, 'gave a partition back');
  }
}

/** Advisory locks held by any session in this database, as the signed 64-bit keys they were taken with. */
async function heldAdvisoryLocks(client: pg.Client): Promise<Set<string>> {
  const { rows } = await client.query<{ key: string }>(`
    select ((classid::bigint << 32) | objid::bigint)::text as key
    from pg_locks
    where locktype = 'advisory' and objsubid = 1 and granted
      and database = (select oid from pg_database where datname = current_database())`);
  return new Set(rows.map((row) => row.key));
}
