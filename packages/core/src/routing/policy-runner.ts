import { EnsembleError } from '../errors/ensemble-error.ts';
import type { Clock } from '../ports/clock.ts';
import { type AttemptFailure, classifyFailure } from './attempt-failure.ts';
import type { BreakerAdmission, BreakerRegistry, BreakerVerdict } from './breaker-registry.ts';
import type { CircuitBreakerPolicy } from './circuit-breaker-policy.ts';
import { matchesCondition } from './match-condition.ts';
import { defaultOutcomeMatcher, matchesOutcome, type OutcomeSelector } from './outcome-matcher.ts';
import { raceAbort } from './race-abort.ts';
import type { RandomSource } from './random-source.ts';
import { noRetry, type RouteRetryPolicy, retryDelay } from './retry-policy.ts';
import type { RouteContext } from './route-context.ts';
import type { NodeSettings, RoutePolicy } from './route-policy.ts';
import type { AttemptRecord, RouteTrace } from './route-trace.ts';
import { pickWeighted } from './weighted-choice.ts';

export interface AttemptInfo {
  /** 1 for the first try of this target at this place in the policy, 2 for its first retry, … */
  attempt: number;
  /** Where in the policy the target sits, e.g. `policy.targets[1]`. */
  path: string;
  timeoutMs: number | undefined;
}

/** Calls one target. `signal` aborts on the attempt's timeout and on the caller's abort. */
export type AttemptFunction<T> = (target: string, signal: AbortSignal, info: AttemptInfo) => Promise<T>;

export interface PolicyRunnerDependencies {
  clock: Clock;
  random: RandomSource;
  breakers: BreakerRegistry;
  /** Expands a target that names another route; `undefined` means it is a model. */
  resolveRoute?: ((name: string) => RoutePolicy | undefined) | undefined;
}

/** Settings after inheritance: what applies to a target. */
export interface EffectiveSettings {
  retry: RouteRetryPolicy;
  timeoutMs: number | undefined;
  fallbackOn: readonly OutcomeSelector[];
  circuitBreaker: CircuitBreakerPolicy | undefined;
}

/** The attempt that answered, with what the caller needs to keep using it (streams). */
export interface AttemptSuccess<T> {
  value: T;
  target: string;
  path: string;
  settings: EffectiveSettings;
  /** Aborts the answering attempt; still linked to the caller's signal until `release()`. */
  controller: AbortController;
  /** Unlinks the caller's signal from the attempt (call once the answer is fully consumed). */
  release: () => void;
}

type NodeResult<T> = { ok: true; success: AttemptSuccess<T> } | { ok: false; failure: AttemptFailure; tried: boolean };

/** Why an attempt's (or a chunk's) timer is stopped: it is not an error anyone sees. */
export const timerStopped = Object.freeze(new Error('timer stopped'));

/** A route that references routes deeper than this is a configuration loop or close to one. */
export const maxRouteHops = 4;

const rootSettings: EffectiveSettings = {
  retry: noRetry,
  timeoutMs: undefined,
  fallbackOn: defaultOutcomeMatcher,
  circuitBreaker: undefined,
};

/**
 * Runs a policy tree once for one call: resolves to the first attempt that answered, or rejects
 * with an `EnsembleError` for the last real failure (`details.trace` holds every attempt), or with
 * the caller's abort reason the moment `signal` aborts.
 */
export async function runPolicy<T>(
  dependencies: PolicyRunnerDependencies,
  policy: RoutePolicy,
  context: RouteContext,
  attempt: AttemptFunction<T>,
  signal: AbortSignal | undefined,
  trace: RouteTrace,
): Promise<AttemptSuccess<T>> {
  const { clock, random, breakers, resolveRoute } = dependencies;
  if (signal?.aborted) throw signal.reason;

  const inherit = (parent: EffectiveSettings, node: NodeSettings): EffectiveSettings => ({
    retry: node.retry ?? parent.retry,
    timeoutMs: node.timeoutMs ?? parent.timeoutMs,
    fallbackOn: node.fallbackOn ?? parent.fallbackOn,
    circuitBreaker: node.circuitBreaker ?? parent.circuitBreaker,
  });

  const runNode = (
    node: RoutePolicy,
    parent: EffectiveSettings,
    path: string,
    routes: readonly string[],
  ): Promise<NodeResult<T>> => {
    const settings = inherit(parent, node);
    switch (node.strategy) {
      case 'single': {
        const nested = resolveRoute?.(node.target);
        if (nested === undefined) return runTarget(node.target, settings, path);
        if (routes.includes(node.target) || routes.length >= maxRouteHops) {
          throw new EnsembleError(
            'config_invalid',
            `route '${node.target}' refers to itself or nests routes too deeply`,
            {
              field: path,
              details: { routes: [...routes, node.target] },
            },
          );
        }
        return runNode(nested, settings, `${path}(${node.target})`, [...routes, node.target]);
      }
      case 'fallback':
        return runSequence(
          node.targets.map((child, index) => () => runNode(child, settings, `${path}.targets[${index}]`, routes)),
          settings,
        );
      case 'loadbalance':
        return runLoadbalance(node.targets, node.failover, settings, path, routes);
      case 'conditional': {
        const index = node.conditions.findIndex((clause) => matchesCondition(clause.when, context));
        const clause = node.conditions[index];
        return clause === undefined
          ? runNode(node.default, settings, `${path}.default`, routes)
          : runNode(clause.use, settings, `${path}.conditions[${index}].use`, routes);
      }
    }
  };

  /** Children in order; a skip (open breaker) always moves on, a failure only if `fallbackOn` says so. */
  const runSequence = async (
    children: readonly (() => Promise<NodeResult<T>>)[],
    settings: EffectiveSettings,
  ): Promise<NodeResult<T>> => {
    let last: NodeResult<T> | undefined;
    for (const child of children) {
      const result = await child();
      if (result.ok) return result;
      last = worse(last, result);
      if (result.tried && !matchesOutcome(settings.fallbackOn, result.failure)) return last;
    }
    return last ?? { ok: false, failure: noTargetFailure(), tried: false };
  };

  const runLoadbalance = async (
    children: readonly RoutePolicy[],
    failover: boolean,
    settings: EffectiveSettings,
    path: string,
    routes: readonly string[],
  ): Promise<NodeResult<T>> => {
    const remaining = children.map((_, index) => index).filter((index) => (children[index]?.weight ?? 1) > 0);
    let last: NodeResult<T> | undefined;
    while (remaining.length > 0) {
      const drawn = pickWeighted(
        remaining.map((index) => children[index]?.weight ?? 1),
        random,
      );
      const index = remaining[drawn];
      const child = index === undefined ? undefined : children[index];
      if (index === undefined || child === undefined) break;
      const result = await runNode(child, settings, `${path}.targets[${index}]`, routes);
      if (result.ok) return result;
      last = worse(last, result);
      if (result.tried && !(failover && matchesOutcome(settings.fallbackOn, result.failure))) return last;
      remaining.splice(drawn, 1);
    }
    return last ?? { ok: false, failure: noTargetFailure(), tried: false };
  };

  /** One target with its retries, behind its breaker. */
  const runTarget = async (target: string, settings: EffectiveSettings, path: string): Promise<NodeResult<T>> => {
    const { retry, circuitBreaker } = settings;
    let retryDelayMs = 0;
    let failure: AttemptFailure | undefined;
    for (let number = 1; number <= retry.maxAttempts; number += 1) {
      if (number > 1) {
        retryDelayMs = retryDelay(retry, number - 1, failure?.retryAfterMs, random);
        if (retryDelayMs > 0) await clock.sleep(retryDelayMs, signal);
        else if (signal?.aborted) throw signal.reason;
      }
      const admission: BreakerAdmission | undefined = circuitBreaker && breakers.admit(target, circuitBreaker);
      const startedAt = clock.now();
      const record: AttemptRecord = {
        target,
        path,
        attempt: number,
        startedAt,
        endedAt: startedAt,
        outcome: 'success',
        retryDelayMs,
        ...(admission === undefined ? {} : { breakerState: admission.state }),
      };
      if (admission !== undefined && !admission.allowed) {
        trace.push({ ...record, outcome: 'circuit_open', errorCode: 'circuit_open', status: 503 });
        // A retry is not worth waiting for here: the caller moves on to other targets at once.
        if (failure !== undefined) return { ok: false, failure, tried: true };
        return { ok: false, failure: circuitOpenFailure(target, admission.retryAfterMs), tried: false };
      }
      const outcome = await runAttempt(target, settings, { attempt: number, path, timeoutMs: settings.timeoutMs });
      record.endedAt = clock.now();
      if (outcome.ok) {
        if (admission !== undefined && circuitBreaker !== undefined) {
          breakers.record(target, circuitBreaker, 'success', admission);
        }
        trace.push(record);
        return { ok: true, success: { ...outcome.success, target, path, settings } };
      }
      if (outcome.aborted) {
        if (admission !== undefined && circuitBreaker !== undefined) {
          breakers.record(target, circuitBreaker, 'neutral', admission);
        }
        trace.push({ ...record, outcome: 'aborted' });
        throw outcome.reason;
      }
      failure = outcome.failure;
      if (admission !== undefined && circuitBreaker !== undefined) {
        breakers.record(target, circuitBreaker, breakerVerdict(failure), admission);
      }
      trace.push({
        ...record,
        outcome: outcome.timedOut ? 'timeout' : 'failure',
        errorCode: failure.code,
        status: failure.status,
        message: failure.message,
      });
      if (!matchesOutcome(retry.on, failure)) break;
    }
    return { ok: false, failure: failure ?? noTargetFailure(), tried: true };
  };

  type AttemptOutcome =
    | { ok: true; success: Pick<AttemptSuccess<T>, 'value' | 'controller' | 'release'> }
    | { ok: false; aborted: true; reason: unknown }
    | { ok: false; aborted: false; failure: AttemptFailure; timedOut: boolean };

  const runAttempt = async (
    target: string,
    settings: EffectiveSettings,
    info: AttemptInfo,
  ): Promise<AttemptOutcome> => {
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    const release = () => signal?.removeEventListener('abort', onCallerAbort);
    // Only a node with a timeout needs a timer; stopping it aborts with a shared reason (an abort
    // without one builds a DOMException and its stack: ≈3% of a routed call's CPU, measured).
    const { timeoutMs } = settings;
    const timer = timeoutMs === undefined ? undefined : new AbortController();
    let timedOut = false;
    if (timeoutMs !== undefined) {
      clock.sleep(timeoutMs, timer?.signal).then(
        () => {
          timedOut = true;
          controller.abort(new EnsembleError('timeout', `${target} did not answer within ${timeoutMs} ms`));
        },
        () => {},
      );
    }
    try {
      const pending = Promise.resolve().then(() => attempt(target, controller.signal, info));
      // Nothing can abort an attempt without a timeout or a caller signal: skip the race (hot path).
      const value = await (timeoutMs === undefined && signal === undefined
        ? pending
        : raceAbort(pending, controller.signal));
      return { ok: true, success: { value, controller, release } };
    } catch (error) {
      release();
      if (signal?.aborted) return { ok: false, aborted: true, reason: signal.reason };
      const cause = timedOut ? controller.signal.reason : error;
      return { ok: false, aborted: false, failure: classifyFailure(cause, clock.now()), timedOut };
    } finally {
      timer?.abort(timerStopped);
    }
  };

  const result = await runNode(policy, rootSettings, 'policy', []);
  if (result.ok) return result.success;
  throw routeFailedError(result.failure, trace);
}

/** Failures that say the target is unwell count against its breaker; a wrong request does not. */
export function breakerVerdict(failure: AttemptFailure): BreakerVerdict {
  return failure.retryable ? 'failure' : 'neutral';
}

/** Keeps the last real failure over later skips: "all open" is only the answer if nothing was tried. */
function worse<T>(previous: NodeResult<T> | undefined, next: NodeResult<T>): NodeResult<T> {
  if (previous !== undefined && !previous.ok && previous.tried && !next.ok && !next.tried) return previous;
  return next;
}

function circuitOpenFailure(target: string, retryAfterMs: number | undefined): AttemptFailure {
  const message = `${target} is cooling down after repeated failures`;
  return {
    code: 'circuit_open',
    status: 503,
    retryable: true,
    retryAfterMs,
    message,
    error: new EnsembleError('circuit_open', message),
  };
}

function noTargetFailure(): AttemptFailure {
  const message = 'the route has no target to try';
  return { code: 'upstream_error', status: 502, retryable: false, retryAfterMs: undefined, message, error: undefined };
}

function routeFailedError(failure: AttemptFailure, trace: RouteTrace): EnsembleError {
  const attempts = trace.filter((record) => record.outcome !== 'circuit_open').length;
  const message =
    attempts === 0
      ? 'every target of the route is cooling down after repeated failures'
      : attempts === 1
        ? failure.message
        : `${failure.message} (after ${attempts} attempts)`;
  const original = EnsembleError.isInstance(failure.error) ? failure.error.details : undefined;
  return new EnsembleError(failure.code, message, {
    cause: failure.error,
    retryable: failure.retryable,
    ...(failure.retryAfterMs === undefined ? {} : { retryAfterSeconds: Math.ceil(failure.retryAfterMs / 1000) }),
    details: { ...original, attempts, trace },
  });
}
