import { stat } from 'node:fs/promises';
import {
  type ArtifactStore,
  EnsembleError,
  type ModelKind,
  type ModelProvider,
  type ModelRuntime,
  type RuntimeContext,
  type RuntimeSpec,
} from '@ensemble/core';
import { type BuiltInFile, findBuiltInModel } from './built-in-models.ts';
import { type DeploymentSettings, deploymentSettings } from './deployment-settings.ts';
import { holdOnnxRuntime } from './hold-onnx-runtime.ts';
import { LocalChatModel } from './local-chat-model.ts';
import { LocalEmbeddings } from './local-embeddings.ts';
import { assertFitsInMemory, defaultMemoryBudget, type MemoryBudget } from './memory-guard.ts';
import { ownEmbeddingModel } from './own-embedding-model.ts';
import { PooledClassifier } from './pooled-classifier.ts';
import type { ReplicaWorkerData } from './replica-entry.ts';
import { ReplicaPool, type ReplicaPoolStats } from './replica-pool.ts';
import type { SentenceEmbedderOptions } from './sentence-embedder.ts';

export interface LocalProviderOptions {
  /** Where model files live; a context's own `artifactPath` wins when given. */
  artifacts: ArtifactStore;
  memory?: MemoryBudget;
}

/** A deployed local model: the LangChain runtime plus its pool's figures. */
export interface LocalModelRuntime extends ModelRuntime {
  readonly settings: DeploymentSettings;
  stats(): ReplicaPoolStats;
}

const entry = new URL('./replica-entry.ts', import.meta.url);
const backendOf = (file: string) => new URL(file, import.meta.url).href;

/**
 * The `local` provider: models Ensemble runs itself, in worker-thread replicas. Built-in models are
 * found by their provider model id; a user's own GGUF chat model or ONNX embedding model by its artifact.
 */
export function createLocalProvider(options: LocalProviderOptions): ModelProvider {
  const memory = options.memory ?? defaultMemoryBudget;
  const kinds: readonly ModelKind[] = ['chat', 'embedding', 'classifier'];

  return {
    id: 'local',
    kinds,
    async createRuntime(spec: RuntimeSpec, context: RuntimeContext): Promise<LocalModelRuntime> {
      const settings = deploymentSettings(spec.kind, spec.options);
      const pathOf = async (sha256: string) => {
        if (!(await options.artifacts.has(sha256)) && context.artifactPath === undefined) {
          throw new EnsembleError(
            'not_found',
            `the file of local model '${spec.name}' (sha256 ${sha256}) is not in the artifact store. Fix: run \`ensemble models pull\`.`,
            { details: { model: spec.name, artifact: sha256 } },
          );
        }
        return context.artifactPath ? context.artifactPath(sha256) : options.artifacts.path(sha256);
      };
      const deploy = async (backend: string, backendOptions: unknown, files: string[]) => {
        let bytes = 0;
        for (const file of files) bytes += (await stat(file)).size;
        assertFitsInMemory(spec.name, bytes, settings.replicas, memory);
        const workerData: ReplicaWorkerData = { backend: backendOf(backend), options: backendOptions };
        return ReplicaPool.start({
          name: spec.name,
          entry,
          workerData,
          replicas: settings.replicas,
          concurrencyPerReplica: settings.concurrency,
          maxQueue: settings.maxQueue,
          logger: context.logger,
        });
      };

      const builtIn = findBuiltInModel(spec.providerModelId);
      if (builtIn !== undefined && builtIn.kind !== spec.kind) {
        throw new EnsembleError(
          'validation_failed',
          `local model '${spec.providerModelId}' is a ${builtIn.kind} model, not ${spec.kind}`,
          { field: 'kind' },
        );
      }

      switch (spec.kind) {
        case 'embedding': {
          // A built-in model by its id, or the user's own ONNX file and tokenizer from the artifact store.
          const source = builtIn
            ? {
                modelSha256: fileOf(builtIn.files, 'weights', spec).sha256,
                tokenizerSha256: fileOf(builtIn.files, 'tokenizer', spec).sha256,
                pooling: 'mean' as const,
                maxInputTokens: Number(builtIn.capabilities.maxInputTokens ?? 256),
              }
            : ownEmbeddingModel(spec);
          const [modelPath, tokenizerPath] = [await pathOf(source.modelSha256), await pathOf(source.tokenizerSha256)];
          const embedder: SentenceEmbedderOptions = {
            modelPath,
            tokenizerPath,
            maxTokens: source.maxInputTokens,
            pooling: source.pooling,
            threads: settings.threads,
          };
          await holdOnnxRuntime();
          const pool = await deploy('./sentence-embedder.ts', embedder, [modelPath]);
          // One real call proves the files fit together, and gives the vectors' width.
          let dimensions: number;
          try {
            dimensions = (await pool.call<number[][]>('embed', ['dimensions probe']))[0]?.length ?? 0;
          } catch (error) {
            await pool.close();
            throw error;
          }
          const embeddings = new LocalEmbeddings({
            pool,
            dimensions,
            batchWindowMs: settings.batchWindowMs,
            maxBatchSize: settings.maxBatchSize,
            maxInFlight: settings.replicas * settings.concurrency,
          });
          return runtime('embedding', pool, settings, { embeddings }, () => embeddings.embedQuery('health check'));
        }
        case 'chat': {
          const sha256 = builtIn ? fileOf(builtIn.files, 'weights', spec).sha256 : spec.artifact?.sha256;
          if (sha256 === undefined || (builtIn === undefined && spec.artifact?.format !== 'gguf')) {
            throw new EnsembleError(
              'validation_failed',
              `local chat model '${spec.name}' needs a GGUF artifact (artifact.format 'gguf') or a built-in model id`,
              { field: 'artifact' },
            );
          }
          const modelPath = await pathOf(sha256);
          const pool = await deploy(
            './llama-chat-backend.ts',
            {
              modelPath,
              contextSize: settings.contextSize,
              sequences: settings.concurrency,
              threads: settings.threads,
            },
            [modelPath],
          );
          const chat = new LocalChatModel({
            pool,
            model: spec.name,
            maxTokens: numberParameter(spec.parameters.maxTokens, 256),
            temperature: numberParameter(spec.parameters.temperature, 0.2),
          });
          return runtime('chat', pool, settings, { chat }, () => chat.invoke('Say OK.', { maxTokens: 1 }));
        }
        case 'classifier': {
          const backend =
            spec.providerModelId === 'fasttext-lid-176'
              ? './language-identifier.ts'
              : spec.providerModelId === 'wink-sentiment'
                ? './sentiment-classifier.ts'
                : undefined;
          if (backend === undefined) {
            throw new EnsembleError(
              'validation_failed',
              `unknown local classifier '${spec.providerModelId}'; known: fasttext-lid-176, wink-sentiment`,
              { field: 'providerModelId' },
            );
          }
          const pool = await deploy(backend, { top: numberParameter(spec.parameters.top, 3) }, []);
          const classifier = new PooledClassifier(pool);
          return runtime('classifier', pool, settings, { classifier }, () => classifier.invoke(['health check']));
        }
      }
    },
  };
}

function runtime(
  kind: ModelKind,
  pool: ReplicaPool,
  settings: DeploymentSettings,
  parts: Pick<ModelRuntime, 'chat' | 'embeddings' | 'classifier'>,
  probe: () => Promise<unknown>,
): LocalModelRuntime {
  return {
    kind,
    ...parts,
    settings,
    stats: () => pool.stats(),
    async health(signal) {
      const started = performance.now();
      try {
        await Promise.race([
          probe(),
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
        ]);
        return { ok: true, latencyMs: performance.now() - started, checkedAt: new Date() };
      } catch (error) {
        return {
          ok: false,
          latencyMs: performance.now() - started,
          error: error instanceof Error ? error.message : String(error),
          checkedAt: new Date(),
        };
      }
    },
    dispose: () => pool.close(),
  };
}

function fileOf(files: readonly BuiltInFile[] | undefined, role: BuiltInFile['role'], spec: RuntimeSpec): BuiltInFile {
  const file = files?.find((candidate) => candidate.role === role);
  if (file === undefined) {
    throw new EnsembleError(
      'validation_failed',
      `unknown local ${spec.kind} model '${spec.providerModelId}'; built-in ids are listed in ensemble models pull --help`,
      { field: 'providerModelId' },
    );
  }
  return file;
}

function numberParameter(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
