import { randomBytes } from 'node:crypto';
import {
  CredentialCipher,
  createDatabase,
  type Database,
  PostgresCredentialRepository,
  PostgresModelRepository,
  runMigrations,
} from '@ensemble/adapters/postgres';
import {
  configSchema,
  defaultProjectId,
  ModelRuntimeManager,
  type RegisterModelInput,
  registerModelSchema,
  silentLogger,
} from '@ensemble/core';
import { hostedProviders } from '@ensemble/providers/hosted';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { buildApp } from '../../../app.ts';
import type { EnsembleApp } from '../../../app-types.ts';
import { createLogger } from '../../../logger.ts';
import { InMemoryApiKeys } from '../../../testing/in-memory-api-keys.ts';
import { type OpenAiGatewayModuleOptions, openAiGatewayModule } from '../openai-gateway-module.ts';
import { systemClock } from '../system-clock.ts';
import { MemoryUsageRecorder } from './memory-usage-recorder.ts';

export interface GatewayHarness {
  app: EnsembleApp;
  /** `http://127.0.0.1:<port>` once listening. */
  url: string;
  usage: MemoryUsageRecorder;
  /** A real API key store in memory; `headers` carries an admin key of the default project. */
  keys: InMemoryApiKeys;
  adminKeyId: string;
  headers: { authorization: string };
  models: PostgresModelRepository;
  credentials: PostgresCredentialRepository;
  runtimes: ModelRuntimeManager;
  register(input: Partial<RegisterModelInput> & { name: string; baseUrl?: string }): Promise<void>;
  close(): Promise<void>;
}

/**
 * The gateway module as it runs: a real PostgreSQL registry, the hosted providers, the app
 * listening on loopback, and an in-memory usage recorder. Models point at fake OpenAI servers.
 */
export async function startGatewayHarness(
  prefix: string,
  extra: Partial<Omit<OpenAiGatewayModuleOptions, 'runtimes' | 'models'>> = {},
): Promise<GatewayHarness> {
  const testDatabase: TestDatabase = await createTestDatabase(prefix);
  const database: Database = createDatabase({ url: testDatabase.url });
  await runMigrations(database);
  const models = new PostgresModelRepository(database.db);
  const credentials = new PostgresCredentialRepository(database.db, new CredentialCipher({ current: randomBytes(32) }));
  const runtimes = new ModelRuntimeManager({
    providers: new Map(hostedProviders.map((provider) => [provider.id, provider])),
    models,
    revealCredential: (projectId, name) => credentials.reveal(projectId, name),
    clock: systemClock,
    logger: silentLogger,
    healthIntervalMs: 0,
  });
  const usage = new MemoryUsageRecorder();
  const keys = new InMemoryApiKeys();
  const { secret, key } = await keys.add(defaultProjectId, { name: 'test-admin', admin: true });
  const app = await buildApp({
    config: configSchema.parse({ log: { level: 'silent' } }),
    logger: createLogger({ level: 'silent' }),
    checks: [],
    authenticator: keys,
    // /metrics on, Node's default metrics off; the response cache off unless a test turns it on.
    metrics: { defaultMetrics: false },
    modules: [openAiGatewayModule({ runtimes, models, usage, cache: { ttlMs: 0 }, ...extra })],
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    url,
    usage,
    keys,
    adminKeyId: key.id,
    headers: { authorization: `Bearer ${secret}` },
    models,
    credentials,
    runtimes,
    async register(input) {
      await models.register(
        registerModelSchema.parse({
          kind: 'chat',
          provider: 'openai-compatible',
          providerModelId: 'upstream-model',
          ...input,
        }),
        { actor: 'test' },
      );
    },
    async close() {
      await app.close();
      await runtimes.close();
      await database.close();
      await testDatabase.drop();
    },
  };
}
