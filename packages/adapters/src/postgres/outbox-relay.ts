import { type EventBus, type EventEnvelope, type Logger, type PublishRecord, silentLogger } from '@ensemble/core';
import { sql } from 'kysely';
import type pg from 'pg';
import { advisoryLockKey } from './advisory-lock-key.ts';
import { outboxChannel } from './append-to-outbox.ts';
import type { Database } from './create-database.ts';
import { mapDatabaseError } from './database-errors.ts';
import { jitter, pause } from './pause.ts';

export interface OutboxRelayOptions {
  database: Database;
  bus: EventBus;
  logger?: Logger;
  batchSize?: number;
  /** How often to look for rows when no NOTIFY arrived. */
  pollIntervalMs?: number;
  /** Longest wait between attempts while the bus or the database fails. */
  maxBackoffMs?: number;
  /** How long `stop()` keeps publishing what is left. */
  drainTimeoutMs?: number;
}

/**
 * Moves events from the `outbox` table to the event bus: claims the oldest rows
 * (`FOR UPDATE SKIP LOCKED`), publishes them, deletes them, all in one transaction. At least once:
 * a crash after publishing and before committing publishes those rows again. Order per key holds
 * because one relay works at a time (a transaction-scoped advisory lock; other instances wait their
 * turn) and each batch goes out in id order.
 */
export class OutboxRelay {
  readonly #options: OutboxRelayOptions;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #stop = new AbortController();
  #wakeGeneration = 0;
  #wakeUp: (() => void) | undefined;
  #listener: pg.Client | undefined;
  #connecting = false;
  #loop: Promise<void> | undefined;
  #published = 0;

  constructor(options: OutboxRelayOptions) {
    this.#options = options;
    this.#batchSize = options.batchSize ?? 100;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'outbox-relay' });
  }

  /** Events published since start. */
  get published(): number {
    return this.#published;
  }

  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
  }

  /** Stops after publishing what is in the outbox (up to `drainTimeoutMs`), then closes its connection. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake();
    await this.#loop;
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Publishes one batch; returns how many rows it moved (0 when empty or another relay is at work). */
  async relayOnce(): Promise<number> {
    const { database, bus } = this.#options;
    try {
      return await database.db.transaction().execute(async (trx) => {
        const lock = await sql<{ locked: boolean }>`
          select pg_try_advisory_xact_lock(${advisoryLockKey('ensemble', 'outbox-relay')}::bigint) as locked`.execute(
          trx,
        );
        if (!lock.rows[0]?.locked) return 0;
        const rows = await trx
          .selectFrom('outbox')
          .select(['id', 'topic', 'key', 'value'])
          .orderBy('id')
          .limit(this.#batchSize)
          .forUpdate()
          .skipLocked()
          .execute();
        if (rows.length === 0) return 0;
        const records: PublishRecord[] = rows.map((row) => ({
          topic: row.topic,
          key: row.key,
          value: row.value as EventEnvelope,
        }));
        await bus.publish(records);
        await trx
          .deleteFrom('outbox')
          .where(
            'id',
            'in',
            rows.map((row) => row.id),
          )
          .execute();
        return rows.length;
      });
    } catch (error) {
      throw mapDatabaseError(error);
    }
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    const maxBackoffMs = this.#options.maxBackoffMs ?? 10_000;
    let failures = 0;
    let drainUntil = Number.POSITIVE_INFINITY;
    while (true) {
      if (stop.aborted) {
        if (drainUntil === Number.POSITIVE_INFINITY) drainUntil = Date.now() + (this.#options.drainTimeoutMs ?? 10_000);
        if (Date.now() > drainUntil) {
          this.#logger.warn({}, 'stopped before the outbox was empty; the rest goes out on the next start');
          return;
        }
      }
      this.#ensureListener();
      const generation = this.#wakeGeneration;
      let moved: number;
      try {
        moved = await this.relayOnce();
        this.#published += moved;
        failures = 0;
      } catch (error) {
        failures++;
        this.#logger.warn({ err: String(error), failures }, 'could not relay the outbox; backing off');
        const wait = Math.min(maxBackoffMs, 100 * 2 ** Math.min(failures, 16));
        if (!stop.aborted) {
          await pause(wait, stop);
        } else if (Date.now() + wait < drainUntil) {
          // Draining: keep trying until the deadline, the failure may be brief.
          await pause(wait);
        } else {
          this.#logger.warn({}, 'stopped before the outbox was empty; the rest goes out on the next start');
          return;
        }
        continue;
      }
      if (moved === this.#batchSize) continue;
      if (stop.aborted) return;
      await this.#sleep(generation, jitter(this.#options.pollIntervalMs ?? 1_000));
    }
  }

  #sleep(generation: number, ms: number): Promise<void> {
    if (generation !== this.#wakeGeneration) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeUp = done;
    });
  }

  #wake(): void {
    this.#wakeGeneration++;
    const wakeUp = this.#wakeUp;
    this.#wakeUp = undefined;
    wakeUp?.();
  }

  /** Keeps a LISTEN connection, reconnecting in the background; the poll covers the gaps. */
  #ensureListener(): void {
    if (this.#listener || this.#connecting || this.#stop.signal.aborted) return;
    this.#connecting = true;
    const client = this.#options.database.dedicatedClient({ applicationName: 'ensemble-outbox-relay' });
    const lost = () => {
      if (this.#listener === client) this.#listener = undefined;
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => this.#wake());
    client
      .connect()
      .then(() => client.query(`listen ${outboxChannel}`))
      .then(
        () => {
          if (this.#stop.signal.aborted) return client.end();
          this.#listener = client;
          // Rows may have arrived while connecting.
          this.#wake();
        },
        () => client.end(),
      )
      .catch(() => undefined)
      .finally(() => {
        this.#connecting = false;
      });
  }
}
