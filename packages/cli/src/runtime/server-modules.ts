import { ThreadedDocumentChunker } from '@ensemble/adapters/documents';
import {
  PostgresArtifactOwners,
  PostgresAuditLog,
  PostgresBatchFileRepository,
  PostgresJobEventNotifier,
  PostgresJobRepository,
  PostgresProjectRepository,
  PostgresUsageLedger,
} from '@ensemble/adapters/postgres';
import { HmacWebhookSigner } from '@ensemble/adapters/webhooks';
import {
  type ApiKeyStore,
  type ArtifactStore,
  type CollectionService,
  defaultJobTopics,
  type EnsembleConfig,
  type ModelRuntimeManager,
  RuntimeTextEmbedder,
  type UsageRecorder,
  type VectorStore,
} from '@ensemble/core';
import {
  artifactsModule,
  auditModule,
  batchApiModule,
  collectionsModule,
  credentialsModule,
  type EnsembleModule,
  jobsModule,
  keysModule,
  limitsModule,
  modelRuntimeModule,
  modelsModule,
  type OutboundGuard,
  openAiGatewayModule,
  pineconeModule,
  projectsModule,
  routesModule,
  usageModule,
} from '@ensemble/server';
import type { Pipelines } from '../pipelines/open-pipelines.ts';
import type { Registry } from '../registry/open-registry.ts';
import type { Routes } from '../routes/open-routes.ts';
import type { Limits } from './open-limits.ts';
import type { Platform } from './open-platform.ts';

/** The domain modules the API serves, wired to their adapters. */
export function serverModules(
  platform: Platform,
  registry: Registry & { masterKey: Buffer },
  runtimes: ModelRuntimeManager,
  uploads: { artifacts: ArtifactStore; config: EnsembleConfig },
  keys: ApiKeyStore,
  usage: UsageRecorder,
  routes: Routes,
  limits: Limits,
  collections?: CollectionService,
  pipelines?: Pipelines,
  /** The SSRF guard documents named by URL are fetched through. */
  outbound?: OutboundGuard,
  /** The embedded vector index, for the routes' semantic cache. */
  semanticStore?: VectorStore,
): EnsembleModule[] {
  const artifactOwners = new PostgresArtifactOwners(platform.database.db);
  return [
    projectsModule(new PostgresProjectRepository(platform.database.db)),
    keysModule(keys),
    auditModule(new PostgresAuditLog(platform.database.db)),
    limitsModule(limits.store, limits.enforcer.cache),
    modelsModule(registry.models),
    routesModule(routes.repository),
    credentialsModule(registry.credentials),
    modelRuntimeModule(runtimes),
    openAiGatewayModule({
      runtimes,
      // Models' base URLs are checked again when the gateway connects (saved earlier, or from ensemble.yaml).
      ...(outbound === undefined ? {} : { upstreamConnector: outbound.connector({ timeout: 10_000 }) }),
      models: registry.models,
      ...(uploads.config.usage.ledger ? { usage } : {}),
      routes: routes.lookup,
      ...(pipelines === undefined ? {} : { pipelines: pipelines.service }),
      cache: { ttlMs: uploads.config.gateway.cacheTtlMs, maxBytes: uploads.config.gateway.cacheMaxBytes },
      ...(semanticStore === undefined
        ? {}
        : { semanticCache: { store: semanticStore, embedder: new RuntimeTextEmbedder(runtimes) } }),
    }),
    usageModule(new PostgresUsageLedger(platform.database.db)),
    ...(pipelines?.modules ?? []),
    artifactsModule({
      artifacts: uploads.artifacts,
      owners: artifactOwners,
      uploadLimitBytes: uploads.config.server.uploadLimitBytes,
    }),
    jobsModule({
      jobs: new PostgresJobRepository(platform.database.db, defaultJobTopics),
      models: registry.models,
      artifacts: uploads.artifacts,
      owners: artifactOwners,
      limits: { maxItems: uploads.config.jobs.maxItems, maxItemBytes: uploads.config.jobs.maxItemBytes },
      notifier: new PostgresJobEventNotifier(platform.database),
      signer: new HmacWebhookSigner(registry.masterKey),
      routes: routes.lookup,
      pipelines: pipelines?.service,
    }),
    // OpenAI's Files and Batch APIs on top of the jobs (their /v1 errors use the gateway's formatter).
    batchApiModule({
      jobs: new PostgresJobRepository(platform.database.db, defaultJobTopics),
      files: new PostgresBatchFileRepository(platform.database.db),
      models: registry.models,
      artifacts: uploads.artifacts,
      limits: { maxItems: uploads.config.jobs.maxItems, maxItemBytes: uploads.config.jobs.maxItemBytes },
      uploadLimitBytes: uploads.config.server.uploadLimitBytes,
      routes: routes.lookup,
    }),
    ...(collections === undefined
      ? []
      : [
          collectionsModule({
            collections,
            // Parsing runs in a worker thread, bounded like a job's document, even for `wait=true`.
            chunker: new ThreadedDocumentChunker({ timeoutMs: uploads.config.ingest.jobTimeoutMs }),
            ingestJobs: {
              jobs: new PostgresJobRepository(platform.database.db, defaultJobTopics),
              artifacts: uploads.artifacts,
              timeoutMs: uploads.config.ingest.jobTimeoutMs,
            },
            ...(outbound === undefined
              ? {}
              : {
                  fetcher: {
                    guard: outbound,
                    limits: {
                      maxBytes: uploads.config.ingest.urlMaxBytes,
                      timeoutMs: uploads.config.ingest.urlTimeoutMs,
                    },
                  },
                }),
          }),
          pineconeModule({ collections }),
        ]),
  ];
}
