import {
  type BreakerRegistry,
  type BreakerSnapshot,
  type BreakerState,
  type Clock,
  createInMemoryBreakerRegistry,
} from '@ensemble/core';

/**
 * Circuit breakers, one registry per project: target names are a project's own, so a failing
 * `openai/gpt-4o` in one project must not cool down another project's model of the same name.
 * Shared by every request of the process.
 */
export class ProjectBreakers {
  readonly #clock: Clock;
  readonly #onStateChange:
    | ((projectId: string, target: string, from: BreakerState, to: BreakerState) => void)
    | undefined;
  readonly #registries = new Map<string, BreakerRegistry>();

  constructor(
    clock: Clock,
    onStateChange?: (projectId: string, target: string, from: BreakerState, to: BreakerState) => void,
  ) {
    this.#clock = clock;
    this.#onStateChange = onStateChange;
  }

  of(projectId: string): BreakerRegistry {
    let registry = this.#registries.get(projectId);
    if (registry === undefined) {
      const notify = this.#onStateChange;
      registry = createInMemoryBreakerRegistry({
        clock: this.#clock,
        ...(notify === undefined
          ? {}
          : {
              onStateChange: (target: string, from: BreakerState, to: BreakerState) =>
                notify(projectId, target, from, to),
            }),
      });
      this.#registries.set(projectId, registry);
    }
    return registry;
  }

  /** Every breaker of every project (for metrics). */
  snapshot(): Array<BreakerSnapshot & { projectId: string }> {
    return [...this.#registries].flatMap(([projectId, registry]) =>
      registry.snapshot().map((breaker) => ({ ...breaker, projectId })),
    );
  }
}
