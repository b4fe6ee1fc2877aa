import { hostname } from 'node:os';
import {
  type Database,
  PostgresPipelineRepository,
  PostgresRunCancelListener,
  PostgresRunStore,
} from '@ensemble/adapters/postgres';
import {
  type CollectionService,
  type DeclaredPipeline,
  type EnsembleConfig,
  type Logger,
  type ModelRepository,
  type ModelRuntimeManager,
  PipelineExecutor,
  type PipelineLimits,
  type RouteLookup,
  StepCache,
  type UsageRecorder,
  validatePipeline,
} from '@ensemble/core';
import {
  AllowListPipelineHttp,
  CollectionsPipelineRetriever,
  type EnsembleModule,
  PipelineService,
  pipelinesModule,
  RuntimePipelineModels,
  runsModule,
} from '@ensemble/server';
import { withRegistryLock } from '../registry/with-registry-lock.ts';
import { outboundGuardFor } from '../runtime/outbound-guard-for.ts';
import { systemClock } from '../runtime/system-clock.ts';
import { examplePipelines, seedExampleCollection } from './example-pipelines.ts';

export interface Pipelines {
  readonly service: PipelineService;
  readonly modules: EnsembleModule[];
  close(): Promise<void>;
}

export interface OpenPipelinesOptions {
  config: EnsembleConfig;
  database: Database;
  logger: Logger;
  runtimes: ModelRuntimeManager;
  models: ModelRepository;
  usage?: UsageRecorder | undefined;
  /** Where `retrieve` steps search; none: they are refused at validation. */
  collections?: CollectionService | undefined;
  /** Where a `model` step's name is looked up as a route first (as `/v1` does); without it steps call models only. */
  routes?: Pick<RouteLookup, 'current'> | undefined;
  /**
   * Whether `ensemble.yaml`'s pipelines (and the examples) are written to storage: the server's job.
   * A worker (`ensemble worker`) runs the stored ones only. Default true.
   */
  reconcile?: boolean;
}

export function pipelineLimits(config: EnsembleConfig): PipelineLimits {
  const { runs } = config;
  return {
    maxSteps: runs.maxSteps,
    maxDepth: runs.maxDepth,
    maxFanOut: runs.maxFanOut,
    maxMapItems: runs.maxMapItems,
    maxStepRuns: runs.maxStepRuns,
    runTimeoutMs: runs.timeoutMs,
  };
}

/**
 * Pipelines: storage, the executor on the registry's runtimes, the run service (leases, resumption
 * of interrupted runs, retention), `ensemble.yaml`'s pipelines (and the examples with `--examples`)
 * reconciled under the registry lock, and the API modules.
 */
export async function openPipelines(options: OpenPipelinesOptions): Promise<Pipelines> {
  const { config, database, logger } = options;
  const limits = pipelineLimits(config);
  const repository = new PostgresPipelineRepository(database.pool);
  const runs = new PostgresRunStore(database.pool, {
    owner: `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
    leaseMs: config.runs.leaseMs,
    redactKeys: config.runs.redactKeys,
  });
  const models = new RuntimePipelineModels(options.runtimes, options.models, options.usage, options.routes);
  // `http` steps connect through the SSRF guard too: an allowed prefix whose name resolves inside is refused.
  const http = new AllowListPipelineHttp(config.runs.httpAllow, outboundGuardFor(config).dispatcher);
  const retriever =
    options.collections === undefined ? undefined : new CollectionsPipelineRetriever(options.collections);
  const executor = new PipelineExecutor({
    models,
    http,
    retriever,
    pipelines: repository,
    clock: systemClock,
    limits,
    cache: new StepCache(),
  });
  const reconcile = options.reconcile ?? true;
  let examples = reconcile && config.examples ? examplePipelines() : [];
  if (reconcile && config.examples) {
    // rag-qa needs its collection: made from examples/collections at the first start with --examples.
    const seeded =
      options.collections !== undefined &&
      (await seedExampleCollection(options.collections).then(
        () => true,
        (error: unknown) => {
          logger.warn({ err: error }, 'the rag-qa example is left out: its collection could not be made');
          return false;
        },
      ));
    if (!seeded) examples = examples.filter((example) => example.name !== 'rag-qa');
  }
  const declared: DeclaredPipeline[] = reconcile ? [...examples, ...config.pipelines] : [];
  if (declared.length > 0) {
    await withRegistryLock(database, async () => {
      for (const [index, pipeline] of declared.entries()) {
        const definition = await validatePipeline(pipeline.definition, {
          projectId: pipeline.projectId,
          name: pipeline.name,
          limits,
          models,
          http,
          retriever,
          pipelines: repository,
          field: `ensemble.yaml: pipelines[${index}].definition`,
        });
        const stored = await repository.get(pipeline.projectId, pipeline.name);
        if (stored === undefined) {
          await repository.create(pipeline.projectId, pipeline.name, definition, pipeline.description, 'ensemble.yaml');
          continue;
        }
        const latest = await repository.version(pipeline.projectId, pipeline.name, stored.latestVersion);
        if (canonicalJson(latest?.definition) !== canonicalJson(definition)) {
          await repository.addVersion(
            pipeline.projectId,
            pipeline.name,
            definition,
            pipeline.description,
            'ensemble.yaml',
          );
        }
      }
    });
  }
  const service = new PipelineService({
    executor,
    pipelines: repository,
    runs,
    logger,
    leaseMs: config.runs.leaseMs,
    retentionDays: config.runs.retentionDays,
  });
  service.startBackground();
  // Cancellations requested on other instances reach the runs of this one.
  const cancels = new PostgresRunCancelListener(database, (runId) => service.cancel(runId), logger);
  await cancels.start();
  return {
    service,
    modules: [
      pipelinesModule({ pipelines: repository, service, limits, models, http, retriever }),
      runsModule(runs, service),
    ],
    close: async () => {
      await cancels.close();
      await service.close();
    },
  };
}

/** JSON with keys sorted (PostgreSQL's jsonb keeps its own key order), for comparing definitions. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
