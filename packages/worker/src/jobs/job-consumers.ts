import {
  type ArtifactStore,
  type CollectionService,
  type DocumentChunker,
  defaultJobGroups,
  defaultJobTopics,
  type EventBus,
  type JobGroups,
  type JobModelCaller,
  type JobPipelineRunner,
  type JobTopics,
  type JobWorkStore,
  type Logger,
} from '@ensemble/core';
import type { ConsumerLagGroup } from '../consumer-lag-groups.ts';
import type { ConsumerDefinition } from '../worker.ts';
import { CancellationWatch } from './cancellation-watch.ts';
import { documentTaskHandler } from './document-task-handler.ts';
import { ItemSlots } from './item-slots.ts';
import { jobPlannerHandler } from './job-planner-handler.ts';
import { jobTaskHandler } from './job-task-handler.ts';

export interface JobConsumersOptions {
  store: JobWorkStore;
  caller: JobModelCaller;
  /** Runs the items of `pipeline-run` jobs (a process without pipelines fails them). */
  pipelines?: JobPipelineRunner | undefined;
  bus: Pick<EventBus, 'publish'>;
  logger: Logger;
  /** Model calls at once in this process (JOBS_ITEM_CONCURRENCY). */
  itemConcurrency: number;
  /** Tasks handed over together from one partition (JOBS_TASK_BATCH_SIZE). */
  taskBatchSize: number;
  /** Partitions of each task topic: this process works on all of them at once when it holds them. */
  partitions: number;
  topics?: JobTopics;
  groups?: JobGroups;
  /** Texts of an `embed` job per embeddings call. Default 64. */
  embedGroupSize?: number;
}

/** Waits between tries of a batch whose results could not be written (PostgreSQL away): it never gives up. */
const storageRetry = { initialDelayMs: 250, maxDelayMs: 10_000 };

/**
 * The jobs system's consumers: the planner (`ensemble.jobs.planner` on `ensemble.jobs.requested`)
 * and the task runners (`ensemble.jobs` on both task topics, in batches). Invalid records go to
 * the jobs dead-letter topic; a batch that fails to write its results is retried until it can,
 * holding its partition, so no task is ever skipped.
 */
export function jobConsumers(options: JobConsumersOptions): ConsumerDefinition[] {
  const topics = options.topics ?? defaultJobTopics;
  const groups = options.groups ?? defaultJobGroups;
  const logger = options.logger.child({ component: 'jobs' });
  const watch = new CancellationWatch(options.store);
  return [
    {
      name: 'jobs-planner',
      groupId: groups.planner,
      topics: [topics.requested],
      handler: jobPlannerHandler({ store: options.store, bus: options.bus, topics, logger }),
      retry: storageRetry,
      deadLetterTopic: topics.dlq,
      concurrency: options.partitions,
    },
    {
      name: 'jobs-tasks',
      groupId: groups.tasks,
      topics: [topics.tasksHigh, topics.tasks],
      batch: {
        handler: jobTaskHandler({
          store: options.store,
          caller: options.caller,
          pipelines: options.pipelines,
          slots: new ItemSlots(options.itemConcurrency),
          watch,
          logger,
          embedGroupSize: options.embedGroupSize ?? 64,
        }),
        maxRecords: options.taskBatchSize,
      },
      retry: storageRetry,
      deadLetterTopic: topics.dlq,
      concurrency: options.partitions * 2,
    },
  ];
}

/** The groups and topics of `jobConsumers`, for lag metrics where the consumers do not run. */
export function jobLagGroups(
  topics: JobTopics = defaultJobTopics,
  groups: JobGroups = defaultJobGroups,
): ConsumerLagGroup[] {
  return [
    { groupId: groups.planner, topics: [topics.requested] },
    { groupId: groups.tasks, topics: [topics.tasksHigh, topics.tasks] },
    { groupId: groups.documents, topics: [topics.documents] },
  ];
}

export interface DocumentConsumerOptions {
  store: JobWorkStore;
  collections: CollectionService;
  chunker: DocumentChunker;
  artifacts: ArtifactStore;
  logger: Logger;
  /** Partitions of the documents topic: documents of as many partitions are ingested at once. */
  partitions: number;
  topics?: JobTopics;
  groups?: JobGroups;
}

/**
 * The ingestion jobs' consumer (`ensemble.documents` on the documents topic). It runs only where the
 * collections are served — the embedded vector index is written by one process — so `ensemble start`
 * runs it even with the in-process worker off, and `ensemble worker` never does.
 */
export function documentConsumer(options: DocumentConsumerOptions): ConsumerDefinition {
  const topics = options.topics ?? defaultJobTopics;
  const groups = options.groups ?? defaultJobGroups;
  const logger = options.logger.child({ component: 'ingestion' });
  return {
    name: 'documents',
    groupId: groups.documents,
    topics: [topics.documents],
    batch: {
      handler: documentTaskHandler({
        store: options.store,
        collections: options.collections,
        chunker: options.chunker,
        artifacts: options.artifacts,
        watch: new CancellationWatch(options.store, 250),
        logger,
      }),
      maxRecords: 4,
    },
    retry: storageRetry,
    deadLetterTopic: topics.dlq,
    concurrency: options.partitions,
  };
}
