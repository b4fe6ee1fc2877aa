import type { Logger, UsageLedgerWriter } from '@ensemble/core';
import type { BackgroundService } from '../worker.ts';

export interface UsageLedgerMaintenanceOptions {
  ledger: Pick<UsageLedgerWriter, 'maintain'>;
  /** Days of usage kept (USAGE_RETENTION_DAYS). */
  retentionDays: number;
  logger: Logger;
  /** Between rounds; default one hour. The first round runs at start. */
  intervalMs?: number;
}

/**
 * Keeps the ledger's storage ahead of time and within its retention: on start and then every
 * `intervalMs`, prepares the coming days and drops the days older than `retentionDays`. Every worker
 * runs it; the ledger serialises the rounds. A failed round is logged and the next one tries again.
 */
export class UsageLedgerMaintenance implements BackgroundService {
  readonly name = 'usage-ledger-maintenance';
  readonly #options: UsageLedgerMaintenanceOptions;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();

  constructor(options: UsageLedgerMaintenanceOptions) {
    this.#options = options;
  }

  start(): void {
    this.#run();
    this.#timer = setInterval(() => this.#run(), this.#options.intervalMs ?? 3_600_000);
    this.#timer.unref();
  }

  /** The round in progress, if any; for tests and for `stop`. */
  get round(): Promise<void> {
    return this.#round;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#round;
  }

  #run(): void {
    const { ledger, retentionDays, logger } = this.#options;
    this.#round = this.#round.then(async () => {
      try {
        const { prepared, dropped } = await ledger.maintain({ retentionDays });
        if (prepared.length > 0 || dropped.length > 0) {
          logger.info({ prepared, dropped, retentionDays }, 'usage ledger maintained');
        }
      } catch (error) {
        logger.warn({ err: error }, 'usage ledger maintenance failed; the next round tries again');
      }
    });
  }
}
