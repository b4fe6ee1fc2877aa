import { type Logger, type ScaleInProtection, silentLogger } from '@ensemble/core';

export interface EcsTaskProtectionOptions {
  /** `ECS_AGENT_URI`, which the ECS agent injects into every task's containers. */
  agentUri: string;
  logger?: Logger;
  /** How long one grant lasts; renewed while work is held, so a stuck process is not kept forever. */
  expiresInMinutes?: number;
  /** Idle this long before protection is dropped, so back-to-back work does not flap it. */
  releaseDelayMs?: number;
  /** Bound of one call to the agent. */
  requestTimeoutMs?: number;
}

/**
 * Task scale-in protection through the ECS agent's endpoint
 * (`PUT $ECS_AGENT_URI/task-protection/v1/state`): on while any work is held, renewed before it
 * expires, off shortly after the last hold is released. Best effort: a failing agent is logged
 * and retried, never surfaced to the request or task that asked for protection.
 */
export class EcsTaskProtection implements ScaleInProtection {
  readonly #url: string;
  readonly #logger: Logger;
  readonly #expiresInMinutes: number;
  readonly #releaseDelayMs: number;
  readonly #requestTimeoutMs: number;
  #holds = 0;
  /** Between the last release and the release delay's end: still protected. */
  #releasePending = false;
  /** What the agent was last told successfully. */
  #enabled = false;
  #syncing: Promise<void> | undefined;
  #releaseTimer: NodeJS.Timeout | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: EcsTaskProtectionOptions) {
    this.#url = `${options.agentUri.replace(/\/$/, '')}/task-protection/v1/state`;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'ecs-task-protection' });
    this.#expiresInMinutes = Math.min(Math.max(options.expiresInMinutes ?? 60, 1), 2_880);
    this.#releaseDelayMs = options.releaseDelayMs ?? 10_000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  }

  /** Open holds, for metrics and tests. */
  get holds(): number {
    return this.#holds;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  hold(reason: string): () => void {
    if (this.#closed) return () => {};
    this.#holds += 1;
    clearTimeout(this.#releaseTimer);
    this.#releasePending = false;
    if (this.#holds === 1) {
      this.#logger.debug({ reason }, 'holding scale-in protection');
      void this.#sync();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      if (this.#holds === 0 && !this.#closed) {
        this.#releasePending = true;
        this.#releaseTimer = setTimeout(() => {
          this.#releasePending = false;
          void this.#sync();
        }, this.#releaseDelayMs);
        this.#releaseTimer.unref();
      }
    };
  }

  /** Called after the work has drained: protection goes off now, so the task may be stopped. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#holds = 0;
    this.#releasePending = false;
    clearTimeout(this.#releaseTimer);
    clearTimeout(this.#renewTimer);
    await this.#sync();
  }

  /** Brings the agent to the wanted state; one call at a time, re-checking what is wanted after each. */
  #sync(): Promise<void> {
    // `.finally` runs after the assignment even when #converge finishes at once.
    this.#syncing ??= this.#converge().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #converge(): Promise<void> {
    let failures = 0;
    while (this.#wanted() !== this.#enabled) {
      const wanted = !this.#enabled;
      if (await this.#put(wanted)) {
        this.#enabled = wanted;
        this.#scheduleRenewal();
        failures = 0;
      } else if (++failures >= 3 || this.#closed) {
        return;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** failures));
      }
    }
  }

  #wanted(): boolean {
    return (this.#holds > 0 || this.#releasePending) && !this.#closed;
  }

  #scheduleRenewal(): void {
    clearTimeout(this.#renewTimer);
    if (!this.#enabled) return;
    // Renew a little before the grant runs out, while work is still held.
    const renewInMs = Math.max(this.#expiresInMinutes * 60_000 - 120_000, 30_000);
    this.#renewTimer = setTimeout(() => {
      if (this.#wanted()) void this.#put(true).then((ok) => ok && this.#scheduleRenewal());
    }, renewInMs);
    this.#renewTimer.unref();
  }

  async #put(enabled: boolean): Promise<boolean> {
    const body = enabled
      ? { ProtectionEnabled: true, ExpiresInMinutes: this.#expiresInMinutes }
      : { ProtectionEnabled: false };
    try {
      const response = await fetch(this.#url, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#requestTimeoutMs),
      });
      const answer = (await response.json().catch(() => ({}))) as AgentAnswer;
      if (response.ok && answer.protection?.ProtectionEnabled === enabled) {
        this.#logger.info(
          { enabled, expirationDate: answer.protection.ExpirationDate },
          'task scale-in protection set',
        );
        return true;
      }
      const reason = answer.failure?.Reason ?? answer.error?.Code ?? `HTTP ${response.status}`;
      this.#logger.warn(
        { enabled, reason, detail: answer.failure?.Detail ?? answer.error?.Message },
        'the ECS agent refused task protection',
      );
      return false;
    } catch (error) {
      this.#logger.warn(
        { enabled, err: error instanceof Error ? error.message : String(error) },
        'the ECS agent could not be reached',
      );
      return false;
    }
  }
}

/** The agent answers with one of these (see the ECS task scale-in protection endpoint docs). */
interface AgentAnswer {
  protection?: { ExpirationDate?: string | null; ProtectionEnabled: boolean; TaskArn?: string };
  failure?: { Arn?: string; Detail?: string | null; Reason?: string };
  error?: { Arn?: string; Code?: string; Message?: string };
}
