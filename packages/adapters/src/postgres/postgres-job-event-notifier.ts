import { type JobEventNotifier, type Logger, silentLogger } from '@ensemble/core';
import type pg from 'pg';
import { jobEventsChannel } from './append-job-events.ts';
import type { Database } from './create-database.ts';
import { pause } from './pause.ts';

/**
 * Wakes SSE streams when their job's events are stored: one LISTEN connection per process, whatever
 * the number of watchers, reconnected with backoff when it drops (watchers are woken then, so they
 * re-read what they may have missed; they also poll slowly on their own).
 */
export class PostgresJobEventNotifier implements JobEventNotifier {
  readonly #database: Database;
  readonly #logger: Logger;
  readonly #watchers = new Map<string, Set<() => void>>();
  readonly #stop = new AbortController();
  #client: pg.Client | undefined;
  #loop: Promise<void> | undefined;

  constructor(database: Database, logger: Logger = silentLogger) {
    this.#database = database;
    this.#logger = logger.child({ component: 'job-event-notifier' });
  }

  subscribe(jobId: string, wake: () => void): () => void {
    this.#loop ??= this.#run();
    let watchers = this.#watchers.get(jobId);
    if (watchers === undefined) {
      watchers = new Set();
      this.#watchers.set(jobId, watchers);
    }
    watchers.add(wake);
    return () => {
      watchers.delete(wake);
      if (watchers.size === 0 && this.#watchers.get(jobId) === watchers) this.#watchers.delete(jobId);
    };
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#client?.end().catch(() => undefined);
    await this.#loop;
  }

  #wakeAll(): void {
    for (const watchers of this.#watchers.values()) for (const wake of watchers) wake();
  }

  /** Keeps one LISTEN connection open until closed. */
  async #run(): Promise<void> {
    for (let failures = 0; !this.#stop.signal.aborted; ) {
      const client = this.#database.dedicatedClient({ statementTimeoutMs: 0, applicationName: 'ensemble-job-events' });
      const ended = new Promise<void>((resolve) => {
        client.on('error', () => resolve());
        client.on('end', () => resolve());
      });
      client.on('notification', (message) => {
        const watchers = message.payload === undefined ? undefined : this.#watchers.get(message.payload);
        if (watchers !== undefined) for (const wake of watchers) wake();
      });
      try {
        await client.connect();
        await client.query(`listen ${jobEventsChannel}`);
        this.#client = client;
        failures = 0;
        // Events stored while it was not listening are read by the watchers now.
        this.#wakeAll();
        await Promise.race([ended, new Promise((resolve) => this.#stop.signal.addEventListener('abort', resolve))]);
      } catch (error) {
        failures += 1;
        this.#logger.debug({ err: String(error), failures }, 'could not listen for job events; retrying');
      } finally {
        this.#client = undefined;
        await client.end().catch(() => undefined);
      }
      if (!this.#stop.signal.aborted) {
        this.#wakeAll();
        await pause(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)), this.#stop.signal);
      }
    }
  }
}
