import {
  EnsembleError,
  type KindExpectation,
  type LoadedModel,
  type ModelRuntimeManager,
  wrongKindError,
} from '@ensemble/core';

export interface ModelTargetsOptions {
  /** How long a resolution is served before it is refreshed (in the background; callers never wait for it). */
  ttlMs?: number;
  /** Bounds memory: the oldest resolutions are dropped beyond this many. */
  maxEntries?: number;
}

interface Entry {
  /** Settles to the model, or to the error its resolution failed with (e.g. 404: cached too, briefly). */
  loaded: Promise<LoadedModel>;
  settled: boolean;
  failed: boolean;
  expiresAt: number;
}

/**
 * Model names (and refs) to their runtimes, for the hot path. Resolving a name reads the registry
 * (several PostgreSQL queries); the gateway does that at most once per name per `ttlMs`, and once
 * a name has resolved it serves the known answer while a refresh runs, so no request waits on the
 * database after the first. A change of version, alias or status is seen within `ttlMs` (2 s).
 */
export class ModelTargets {
  readonly #runtimes: ModelRuntimeManager;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();

  constructor(runtimes: ModelRuntimeManager, options: ModelTargetsOptions = {}) {
    this.#runtimes = runtimes;
    this.#ttlMs = options.ttlMs ?? 2_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  async resolve(projectId: string, ref: string, expect: KindExpectation): Promise<LoadedModel> {
    const key = `${projectId}\u0000${ref}`;
    const now = performance.now();
    let entry = this.#entries.get(key);
    if (entry === undefined || (entry.expiresAt <= now && (!entry.settled || entry.failed))) {
      entry = this.#load(key, projectId, ref, now);
    } else if (entry.expiresAt <= now) {
      // Known good: answer from it and refresh behind the caller's back.
      entry.expiresAt = now + this.#ttlMs;
      this.#refresh(key, projectId, ref);
    }
    const loaded = await entry.loaded;
    if (!(expect.kinds as readonly string[]).includes(loaded.descriptor.kind)) {
      throw wrongKindError(loaded.descriptor.name, loaded.descriptor.kind, expect.as, expect.hint, expect.field);
    }
    return loaded;
  }

  #load(key: string, projectId: string, ref: string, now: number): Entry {
    const entry: Entry = {
      loaded: this.#runtimes.runtimeFor(projectId, ref),
      settled: false,
      failed: false,
      expiresAt: now + this.#ttlMs,
    };
    entry.loaded.then(
      () => {
        entry.settled = true;
      },
      (error: unknown) => {
        entry.settled = true;
        entry.failed = true;
        // Only answers about the model are worth remembering; an outage is retried by the next call.
        if (!(EnsembleError.isInstance(error) && error.httpStatus < 500)) this.#forget(key, entry);
      },
    );
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return entry;
  }

  #refresh(key: string, projectId: string, ref: string): void {
    this.#runtimes.runtimeFor(projectId, ref).then(
      (loaded) => {
        const entry = this.#entries.get(key);
        if (entry !== undefined) entry.loaded = Promise.resolve(loaded);
      },
      (error: unknown) => {
        // The model is gone (deleted, retired, no such alias): say so from now on. An outage keeps the last answer.
        if (EnsembleError.isInstance(error) && error.httpStatus < 500) {
          const failed = Promise.reject(error);
          failed.catch(() => undefined);
          this.#entries.set(key, {
            loaded: failed,
            settled: true,
            failed: true,
            expiresAt: performance.now() + this.#ttlMs,
          });
        }
      },
    );
  }

  #forget(key: string, entry: Entry): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
  }
}
