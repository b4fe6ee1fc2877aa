import { EnsembleError } from '../errors/ensemble-error.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { ChangeContext, ModelRepository } from '../ports/model-repository.ts';
import type { ModelDescriptor } from './model-descriptor.ts';
import type { ModelKind } from './model-kind.ts';
import type { ModelProvider } from './model-provider.ts';
import type { ModelRef } from './model-ref.ts';
import type { ModelHealth, ModelRuntime } from './model-runtime.ts';
import {
  healthTimeoutError,
  missingCredentialError,
  retiredError,
  unknownProviderError,
  wrongKindError,
} from './model-runtime-manager-errors.ts';
import type { ModelStatus } from './model-status.ts';
import { toRuntimeSpec } from './to-runtime-spec.ts';

export interface ModelRuntimeManagerOptions {
  /** Installed providers by id (`local`, `openai`, …). */
  providers: ReadonlyMap<string, ModelProvider>;
  /** Given to every runtime as `RuntimeContext.fetch`: the outbound guard's, in the server and worker. */
  fetch?: typeof globalThis.fetch;
  models: ModelRepository;
  /** Decrypts a model's credential (`CredentialRepository.reveal`). */
  revealCredential(projectId: string, name: string): Promise<string>;
  /** Where local model files are read from (`ArtifactStore.path`). */
  artifactPath?(sha256: string): Promise<string>;
  clock: Clock;
  logger: Logger;
  /** Between two rounds of health checks of the loaded runtimes; 0 turns the loop off. */
  healthIntervalMs?: number;
  /** Bounds each health check. */
  healthTimeoutMs?: number;
}

/** The kinds an operation works with, e.g. embedding needs `embedding`; a mismatch is a 400. */
export interface KindExpectation {
  kinds: readonly ModelKind[];
  /** What the operation needs, for the message: `an embedding model`. */
  as: string;
  hint?: string;
  /** The request field at fault (default `kind`). */
  field?: string;
}

/** A runtime and the registry entry (at its version) it was built from. */
export interface LoadedModel {
  descriptor: ModelDescriptor;
  runtime: ModelRuntime;
}

/** What the manager remembers about one loaded `name@version` (in memory, per process). */
export interface RuntimeHealthRecord {
  version: number;
  kind: string;
  /** Null until the first check. */
  ok: boolean | null;
  latencyMs: number | null;
  checkedAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  consecutiveFailures: number;
}

export interface ModelHealthReport {
  projectId: string;
  name: string;
  status: ModelStatus;
  /** Whether this process holds a runtime of the model. */
  loaded: boolean;
  runtimes: RuntimeHealthRecord[];
}

interface Entry {
  key: string;
  projectId: string;
  name: string;
  version: number;
  runtime: Promise<ModelRuntime>;
  loaded: ModelRuntime | undefined;
  /** Last known state, for writing status on transitions only. */
  healthy: boolean;
  record: RuntimeHealthRecord;
  checking: Promise<ModelHealth> | undefined;
  evicted: boolean;
}

const loopActor: ChangeContext = { actor: 'health-check' };

/**
 * Turns registry entries into runtimes and keeps them: one runtime per `name@version`, created once
 * even when callers race for it; deploy/undeploy with their status changes (and so their lifecycle
 * events, written by the repository); health on demand and in a periodic loop that writes `failed`
 * or `ready` only when a model's health changes. Pure orchestration over ports.
 */
export class ModelRuntimeManager {
  readonly #options: ModelRuntimeManagerOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #stopLoop = new AbortController();
  readonly #loop: Promise<void>;
  readonly #healthTimeoutMs: number;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: ModelRuntimeManagerOptions) {
    this.#options = options;
    this.#healthTimeoutMs = options.healthTimeoutMs ?? 10_000;
    const interval = options.healthIntervalMs ?? 30_000;
    this.#loop = interval > 0 ? this.#runLoop(interval) : Promise.resolve();
  }

  /**
   * The runtime of the version `ref` selects, created on first use; retired models are refused, and
   * with `expect` so is a model of another kind, before anything is loaded.
   */
  async runtimeFor(projectId: string, ref: string | ModelRef, expect?: KindExpectation): Promise<LoadedModel> {
    const descriptor = await this.#options.models.resolve(projectId, ref);
    if (descriptor.status === 'retired') throw retiredError(descriptor.name);
    if (expect !== undefined && !(expect.kinds as readonly string[]).includes(descriptor.kind)) {
      throw wrongKindError(descriptor.name, descriptor.kind, expect.as, expect.hint, expect.field);
    }
    const entry = this.#entryFor(descriptor);
    return { descriptor, runtime: await entry.runtime };
  }

  /**
   * Loads the model's default version and checks it: `deploying`, then `ready`, or `failed` with the
   * reason (and the error is thrown). Hosted models are deployed by a passing health check.
   */
  async deploy(projectId: string, name: string, context: ChangeContext = { actor: 'api' }): Promise<ModelDescriptor> {
    const descriptor = await this.#options.models.resolve(projectId, name);
    if (descriptor.status === 'retired') throw retiredError(name);
    const { models } = this.#options;
    await models.setStatus(projectId, name, 'deploying', context);
    let entry: Entry | undefined;
    try {
      entry = this.#entryFor(descriptor);
      await entry.runtime;
      const health = await this.#probe(entry);
      entry.healthy = health.ok;
      if (!health.ok) {
        throw new EnsembleError(
          'upstream_error',
          `model '${name}' loaded but failed its health check: ${health.error ?? 'unknown error'}`,
          { details: { model: name, version: descriptor.version } },
        );
      }
      return await models.setStatus(projectId, name, 'ready', context);
    } catch (error) {
      if (entry !== undefined) await this.#evict(entry);
      // Shutting down is no reason to call the model broken; the next start deploys it again.
      if (this.#closed) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      await models
        .setStatus(projectId, name, 'failed', { ...context, reason })
        .catch((statusError: unknown) =>
          this.#options.logger.warn({ err: statusError, model: name }, 'status not saved'),
        );
      throw error;
    }
  }

  /** Disposes every loaded version of the model; its status goes back to `registered`. */
  async undeploy(projectId: string, name: string, context: ChangeContext = { actor: 'api' }): Promise<ModelDescriptor> {
    const descriptor = await this.#options.models.resolve(projectId, name);
    await Promise.all(this.#entriesOf(projectId, descriptor.name).map((entry) => this.#evict(entry)));
    if (descriptor.status === 'retired' || descriptor.status === 'registered') return descriptor;
    return this.#options.models.setStatus(projectId, name, 'registered', context);
  }

  /** Checks the model's default version now (loading it if needed), bounded by the health timeout. */
  async health(projectId: string, name: string, context: ChangeContext = { actor: 'api' }): Promise<ModelHealthReport> {
    const { descriptor } = await this.runtimeFor(projectId, name);
    const entry = this.#entries.get(keyOf(projectId, descriptor.name, descriptor.version));
    if (entry !== undefined) await this.#observe(entry, await this.#probe(entry), context);
    return this.healthReport(projectId, name);
  }

  /** What the last checks found, without checking (`GET …/health`). */
  async healthReport(projectId: string, name: string): Promise<ModelHealthReport> {
    const descriptor = await this.#options.models.resolve(projectId, name);
    const entries = this.#entriesOf(projectId, descriptor.name).filter((entry) => entry.loaded !== undefined);
    return {
      projectId,
      name: descriptor.name,
      status: descriptor.status,
      loaded: entries.length > 0,
      runtimes: entries.map((entry) => ({ ...entry.record })).sort((a, b) => b.version - a.version),
    };
  }

  /** One round of the health loop: every loaded runtime, concurrently. */
  async checkLoaded(): Promise<void> {
    const loaded = [...this.#entries.values()].filter((entry) => entry.loaded !== undefined && !entry.evicted);
    await Promise.all(
      loaded.map(async (entry) => {
        try {
          await this.#observe(entry, await this.#probe(entry), loopActor);
        } catch (error) {
          this.#options.logger.warn({ err: error, model: entry.name }, 'health check round failed');
        }
      }),
    );
  }

  /** Stops the loop and disposes every runtime. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#stopLoop.abort();
      await this.#loop;
      await Promise.all([...this.#entries.values()].map((entry) => this.#evict(entry)));
    })();
    return this.#closing;
  }

  #entryFor(descriptor: ModelDescriptor): Entry {
    const key = keyOf(descriptor.projectId, descriptor.name, descriptor.version);
    const existing = this.#entries.get(key);
    if (existing !== undefined) return existing;
    if (this.#closed) throw new EnsembleError('shutting_down', 'Ensemble is shutting down; retry on another instance');

    const runtime = this.#create(descriptor).then(
      (created) => {
        entry.loaded = created;
        return created;
      },
      (error: unknown) => {
        // A failed creation is not cached: the next caller tries again.
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
        throw error;
      },
    );
    const entry: Entry = {
      key,
      projectId: descriptor.projectId,
      name: descriptor.name,
      version: descriptor.version,
      runtime,
      loaded: undefined,
      healthy: true,
      record: {
        version: descriptor.version,
        kind: descriptor.kind,
        ok: null,
        latencyMs: null,
        checkedAt: null,
        lastError: null,
        lastErrorAt: null,
        consecutiveFailures: 0,
      },
      checking: undefined,
      evicted: false,
    };
    // Callers await it; this keeps a creation nobody waits for any more from being "unhandled".
    entry.runtime.catch(() => undefined);
    this.#entries.set(key, entry);
    return entry;
  }

  async #create(descriptor: ModelDescriptor): Promise<ModelRuntime> {
    const { providers, logger, artifactPath, fetch } = this.#options;
    const spec = toRuntimeSpec(descriptor.name, descriptor.kind, descriptor);
    const provider = providers.get(descriptor.provider);
    if (provider === undefined) throw unknownProviderError(descriptor, [...providers.keys()].sort());
    if (!provider.kinds.includes(spec.kind)) {
      throw wrongKindError(
        descriptor.name,
        descriptor.kind,
        `a kind provider '${provider.id}' serves (${provider.kinds.join(', ')})`,
      );
    }
    const secret =
      descriptor.credential === undefined ? undefined : await this.#reveal(descriptor, descriptor.credential);
    return provider.createRuntime(spec, {
      logger: logger.child({ model: descriptor.name, version: descriptor.version }),
      ...(secret === undefined ? {} : { secret }),
      ...(artifactPath === undefined ? {} : { artifactPath: (sha256: string) => artifactPath(sha256) }),
      ...(fetch === undefined ? {} : { fetch }),
    });
  }

  async #reveal(descriptor: ModelDescriptor, credential: string): Promise<string> {
    try {
      return await this.#options.revealCredential(descriptor.projectId, credential);
    } catch (error) {
      if (EnsembleError.isInstance(error) && error.code === 'not_found') {
        throw missingCredentialError(descriptor, credential);
      }
      throw error;
    }
  }

  /** One bounded health check of a loaded runtime; concurrent checks of one runtime share a call. */
  #probe(entry: Entry): Promise<ModelHealth> {
    entry.checking ??= this.#runProbe(entry).finally(() => {
      entry.checking = undefined;
    });
    return entry.checking;
  }

  async #runProbe(entry: Entry): Promise<ModelHealth> {
    const { clock } = this.#options;
    const timeoutMs = this.#healthTimeoutMs;
    const started = clock.now();
    const call = new AbortController();
    const timer = new AbortController();
    const failed = (message: string): ModelHealth => ({
      ok: false,
      latencyMs: clock.now() - started,
      error: message,
      checkedAt: new Date(clock.now()),
    });
    const timeout = clock.sleep(timeoutMs, timer.signal).then(
      () => {
        const error = healthTimeoutError(entry.name, timeoutMs);
        call.abort(error);
        return failed(error.message);
      },
      () => new Promise<never>(() => {}),
    );
    let health: ModelHealth;
    try {
      const runtime = await entry.runtime;
      health = await Promise.race([runtime.health(call.signal), timeout]);
    } catch (error) {
      health = failed(error instanceof Error ? error.message : String(error));
    } finally {
      timer.abort();
    }
    const { record } = entry;
    record.ok = health.ok;
    record.latencyMs = Math.round(health.latencyMs * 10) / 10;
    record.checkedAt = health.checkedAt;
    if (health.ok) record.consecutiveFailures = 0;
    else {
      record.consecutiveFailures += 1;
      record.lastError = health.error ?? 'unknown error';
      record.lastErrorAt = health.checkedAt;
    }
    return health;
  }

  /** Writes `failed` / `ready` when a runtime's health changes, unless the model moved on meanwhile. */
  async #observe(entry: Entry, health: ModelHealth, context: ChangeContext): Promise<void> {
    const was = entry.healthy;
    entry.healthy = health.ok;
    if (was === health.ok || entry.evicted) return;
    const { models, logger } = this.#options;
    const current = await models.resolve(entry.projectId, entry.name);
    // A model being deployed, undeployed or retired gets its status from that action instead.
    if (current.status === 'retired' || current.status === 'deploying' || current.status === 'registered') return;
    const to: ModelStatus = health.ok ? 'ready' : 'failed';
    const reason = health.ok ? undefined : `health check of ${entry.name}@${entry.version} failed: ${health.error}`;
    logger[health.ok ? 'info' : 'warn']({ model: entry.name, version: entry.version, reason }, `model is ${to}`);
    await models.setStatus(entry.projectId, entry.name, to, {
      ...context,
      ...(reason === undefined ? {} : { reason }),
    });
  }

  async #evict(entry: Entry): Promise<void> {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    if (entry.evicted) return;
    entry.evicted = true;
    const runtime = await entry.runtime.catch(() => undefined);
    await runtime
      ?.dispose()
      .catch((error: unknown) =>
        this.#options.logger.warn({ err: error, model: entry.name }, 'a runtime did not dispose cleanly'),
      );
  }

  #entriesOf(projectId: string, name: string): Entry[] {
    return [...this.#entries.values()].filter((entry) => entry.projectId === projectId && entry.name === name);
  }

  async #runLoop(intervalMs: number): Promise<void> {
    for (;;) {
      try {
        await this.#options.clock.sleep(intervalMs, this.#stopLoop.signal);
      } catch {
        return;
      }
      await this.checkLoaded();
    }
  }
}

function keyOf(projectId: string, name: string, version: number): string {
  return `${projectId}\u0000${name}@${version}`;
}
