import { OutboxRelay } from '@ensemble/adapters/postgres';
import type { Logger } from '@ensemble/core';
import type { WorkerOptions } from '@ensemble/worker';
import type { Platform } from './open-platform.ts';

/** What a worker process runs: the outbox relay, and the consumers the domains contribute. */
export function workerParts(platform: Platform, logger: Logger): WorkerOptions {
  const relay = new OutboxRelay({ database: platform.database, bus: platform.bus, logger });
  return {
    bus: platform.bus,
    logger,
    services: [{ name: 'outbox-relay', start: () => relay.start(), stop: () => relay.stop() }],
    consumers: [],
    protection: platform.protection,
  };
}
