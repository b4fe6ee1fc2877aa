import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EcsTaskProtection } from '@ensemble/adapters/aws';
import { EmbeddedEventBus } from '@ensemble/adapters/embedded';
import { KafkaEventBus, type KafkaSaslOptions } from '@ensemble/adapters/kafka';
import {
  createDatabase,
  createDatabaseCheck,
  type Database,
  pingDatabase,
  type RunningEmbeddedPostgres,
  runMigrations,
  startEmbeddedPostgres,
} from '@ensemble/adapters/postgres';
import {
  allTopics,
  type DependencyCheck,
  type EnsembleConfig,
  EnsembleError,
  type EventBus,
  type Logger,
  noScaleInProtection,
  type ScaleInProtection,
} from '@ensemble/core';

/** The infrastructure one Ensemble process runs on: PostgreSQL, the event bus, and their checks. */
export interface Platform {
  readonly database: Database;
  readonly bus: EventBus;
  readonly checks: readonly DependencyCheck[];
  /** Set when Ensemble runs its own PostgreSQL (no DATABASE_URL). */
  readonly embeddedPostgres: RunningEmbeddedPostgres | undefined;
  /** On ECS, keeps the task from being scaled in while streams or job tasks are open. */
  readonly protection: ScaleInProtection;
  /** Closes the bus (draining its subscriptions), the pool, then the embedded server. Idempotent. */
  close(): Promise<void>;
}

export interface OpenPlatformOptions {
  /** Apply migrations before returning (`ensemble start`, `ensemble migrate`); workers may skip. */
  migrate: boolean;
  /** Connect to the event bus and create its topics (not needed by `ensemble migrate`). */
  bus: boolean;
}

/**
 * Connects to (or starts) PostgreSQL, migrates it, and connects the event bus. Anything that cannot
 * be reached at start stops Ensemble with a message that names the setting to fix.
 */
export async function openPlatform(
  config: EnsembleConfig,
  logger: Logger,
  options: OpenPlatformOptions,
): Promise<Platform> {
  const cleanups: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => logger.warn({ err: error }, 'a resource did not close cleanly'));
    }
  };

  try {
    const { agentUri, protectionMinutes } = config.ecs;
    const protection = agentUri
      ? new EcsTaskProtection({ agentUri, expiresInMinutes: protectionMinutes, logger })
      : noScaleInProtection;
    // Closed last: by then the work has drained and the task may be stopped.
    cleanups.push(() => protection.close());

    let embeddedPostgres: RunningEmbeddedPostgres | undefined;
    let url = config.database.url;
    if (url === undefined) {
      const dataDir = resolve(join(config.home, 'postgres'));
      logger.info({ dataDir }, 'DATABASE_URL is unset: starting the embedded PostgreSQL');
      embeddedPostgres = await startEmbeddedPostgres({ dataDir, port: config.database.embeddedPort, logger });
      cleanups.push(() => (embeddedPostgres as RunningEmbeddedPostgres).stop());
      url = embeddedPostgres.url;
    }

    const database = createDatabase({
      url,
      poolSize: config.database.poolSize,
      connectTimeoutMs: config.database.connectTimeoutMs,
      statementTimeoutMs: config.database.statementTimeoutMs,
      logger,
    });
    cleanups.push(() => database.close());
    await pingDatabase(database.pool, AbortSignal.timeout(config.database.connectTimeoutMs * 2)).catch(
      (error: unknown) => {
        throw unreachable('PostgreSQL', describeDatabase(url as string), 'DATABASE_URL', error);
      },
    );

    if (options.migrate) {
      const { applied, current } = await runMigrations(database, { logger });
      logger.info({ applied, current }, applied.length > 0 ? 'database migrated' : 'database schema is current');
    }

    let bus: EventBus | undefined;
    if (options.bus) {
      bus = createBus(config, database, logger);
      const created = bus;
      cleanups.push(() => created.close());
      await bus.ping(AbortSignal.timeout(config.kafka.connectTimeoutMs * 2)).catch((error: unknown) => {
        throw unreachable('the Kafka brokers', (config.kafka.brokers ?? []).join(','), 'KAFKA_BROKERS', error);
      });
      await bus.ensureTopics(allTopics.map((name) => ({ name, partitions: config.kafka.topicPartitions })));
      logger.info({ bus: bus.kind, topics: allTopics.length }, 'event bus ready');
    }

    const checks: DependencyCheck[] = [createDatabaseCheck(database.pool)];
    if (bus) checks.push({ name: 'event-bus', check: (signal) => (bus as EventBus).ping(signal) });

    let closing: Promise<void> | undefined;
    return {
      database,
      get bus() {
        if (!bus) throw new Error('this process did not connect the event bus');
        return bus;
      },
      checks,
      embeddedPostgres,
      protection,
      close: () => {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function createBus(config: EnsembleConfig, database: Database, logger: Logger): EventBus {
  const { brokers, clientId, replicationFactor, connectTimeoutMs, topicPartitions, namePrefix } = config.kafka;
  if (brokers === undefined) {
    return new EmbeddedEventBus({ database, logger, defaultPartitions: topicPartitions });
  }
  const { tls, tlsCaFile, saslMechanism, saslUsername, saslPassword, awsRegion } = config.kafka;
  let ca: Buffer | undefined;
  if (tls && tlsCaFile !== undefined) {
    try {
      ca = readFileSync(tlsCaFile);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new EnsembleError('config_invalid', `KAFKA_TLS_CA_FILE: cannot read ${tlsCaFile} (${reason})`, {
        field: 'kafka.tlsCaFile',
        cause: error,
      });
    }
  }
  // The schema has checked that each mechanism comes with what it needs.
  let sasl: KafkaSaslOptions | undefined;
  if (saslMechanism === 'aws-msk-iam') sasl = { mechanism: saslMechanism, region: awsRegion ?? '' };
  else if (saslMechanism !== undefined) {
    sasl = { mechanism: saslMechanism, username: saslUsername ?? '', password: saslPassword ?? '' };
  }
  return new KafkaEventBus({
    brokers,
    clientId,
    replicationFactor,
    connectTimeoutMs,
    namePrefix,
    logger,
    tls: ca ? { ca } : tls,
    ...(sasl ? { sasl } : {}),
  });
}

/** `host:port/database` without the credentials, for messages and logs. */
function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return 'the configured database';
  }
}

function unreachable(what: string, where: string, setting: string, cause: unknown): EnsembleError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const isDatabase = setting === 'DATABASE_URL';
  // The adapters say when the address was right but the handshake failed: point at those settings.
  const fix = /authentication failed|certificate|requires TLS/i.test(reason)
    ? isDatabase
      ? 'correct the credentials or TLS options in DATABASE_URL.'
      : 'correct KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD or KAFKA_TLS / KAFKA_TLS_CA_FILE.'
    : `start it, or correct ${setting}${isDatabase ? ' (unset it to run the embedded PostgreSQL).' : ' (unset it to use the embedded bus).'}`;
  return new EnsembleError(
    isDatabase ? 'database_unavailable' : 'event_bus_unavailable',
    `Cannot reach ${what} at ${where}: ${reason}. Fix: ${fix}`,
    { cause, field: setting },
  );
}
