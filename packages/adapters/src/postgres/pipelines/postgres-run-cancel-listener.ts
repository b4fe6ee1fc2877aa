import { type Logger, silentLogger } from '@ensemble/core';
import type { Database } from '../create-database.ts';
import { pause } from '../pause.ts';
import { runCancelChannel } from './postgres-run-store.ts';

/**
 * Hears the cancellations of runs requested on any instance (`LISTEN ensemble_run_cancel`, sent by
 * `PostgresRunStore.requestCancel` at commit) and hands each run id to `onCancel`, which stops the run
 * if this process runs it. One connection per process, reconnected with backoff when it drops;
 * meanwhile the lease renewals (a third of `PIPELINE_RUN_LEASE_MS`) pick pending requests up, so a
 * missed notification delays a cancellation but never loses it.
 */
export class PostgresRunCancelListener {
  readonly #database: Database;
  readonly #onCancel: (runId: string) => void;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #listening = false;

  constructor(database: Database, onCancel: (runId: string) => void, logger: Logger = silentLogger) {
    this.#database = database;
    this.#onCancel = onCancel;
    this.#logger = logger.child({ component: 'run-cancel-listener' });
  }

  /** True while notifications arrive. */
  get listening(): boolean {
    return this.#listening;
  }

  /** Starts listening; resolves once listening, or after the first failed attempt (retried in the background). */
  start(): Promise<void> {
    if (this.#loop !== undefined) return Promise.resolve();
    let first: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      first = resolve;
    });
    this.#loop = this.#run(first);
    return started;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(first: () => void): Promise<void> {
    for (let failures = 0; !this.#stop.signal.aborted; ) {
      const client = this.#database.dedicatedClient({ statementTimeoutMs: 0, applicationName: 'ensemble-run-cancel' });
      const ended = new Promise<void>((resolve) => {
        client.on('error', () => resolve());
        client.on('end', () => resolve());
      });
      client.on('notification', (message) => {
        if (message.channel === runCancelChannel && message.payload !== undefined) this.#onCancel(message.payload);
      });
      try {
        await client.connect();
        await client.query(`listen ${runCancelChannel}`);
        this.#listening = true;
        failures = 0;
        first();
        await Promise.race([ended, new Promise((resolve) => this.#stop.signal.addEventListener('abort', resolve))]);
      } catch (error) {
        failures += 1;
        if (failures === 1 || failures % 10 === 0) {
          this.#logger.warn(
            { err: String(error), failures },
            'cannot listen for run cancellations; they reach this instance at its next lease renewal',
          );
        }
        first();
      } finally {
        this.#listening = false;
        await client.end().catch(() => undefined);
      }
      if (!this.#stop.signal.aborted)
        await pause(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)), this.#stop.signal);
    }
  }
}
