/**
 * Integration tests run against real services that `npm test` (scripts/test.ts) starts. They never
 * skip: a missing service is an error that says how to provide it.
 */
export function requiredTestEnv(name: 'ENSEMBLE_TEST_DATABASE_URL' | 'ENSEMBLE_TEST_KAFKA_BROKERS'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the tests with 'npm test', which starts PostgreSQL and the Kafka broker, ` +
        `or set ${name} to a running service.`,
    );
  }
  return value;
}

export function testKafkaBrokers(): string[] {
  return requiredTestEnv('ENSEMBLE_TEST_KAFKA_BROKERS').split(',');
}

/** A name unique to this process and call, for topics, groups and databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
