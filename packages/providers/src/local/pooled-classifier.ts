import type { Classification } from '@ensemble/core';
import { Runnable, type RunnableConfig } from '@langchain/core/runnables';
import type { ReplicaPool } from './replica-pool.ts';

/**
 * A classifier as a LangChain Runnable (texts in, one `Classification` per text out) whose model
 * runs in a replica pool, so pipelines compose it like any other step.
 */
export class PooledClassifier extends Runnable<string[], Classification[]> {
  lc_namespace = ['ensemble', 'local', 'classifiers'];
  private readonly pool: ReplicaPool;

  constructor(pool: ReplicaPool) {
    super();
    this.pool = pool;
  }

  async invoke(input: string[], options?: Partial<RunnableConfig>): Promise<Classification[]> {
    return this._callWithConfig(
      (texts: string[]) =>
        this.pool.call<Classification[]>(
          'classify',
          texts,
          options?.signal === undefined ? {} : { signal: options.signal },
        ),
      input,
      options,
    );
  }
}
