import { z } from 'zod';
import { parseModelRef } from '../models/model-ref.ts';
import {
  type CircuitBreakerPolicy,
  type CircuitBreakerPolicyInput,
  circuitBreakerPolicySchema,
} from './circuit-breaker-policy.ts';
import type { OutcomeSelector } from './outcome-matcher.ts';
import { outcomeMatcherSchema } from './outcome-matcher.ts';
import { type RouteRetryPolicy, type RouteRetryPolicyInput, retryPolicySchema } from './retry-policy.ts';
import { type RouteCondition, routeConditionSchema } from './route-condition.ts';
import {
  type SemanticCachePolicy,
  type SemanticCachePolicyInput,
  semanticCachePolicySchema,
} from './semantic-cache-policy.ts';

/**
 * Settings any node may carry. Descendants inherit them (the nearest node that sets one wins, as a
 * whole), so `retry` on a fallback node retries each of its targets rather than the whole list.
 */
export interface NodeSettings {
  /** Retries of each target attempt under this node. */
  retry?: RouteRetryPolicy;
  /** Limit per attempt; for streams, the wait for the first chunk and for each one after. */
  timeoutMs?: number;
  /** Which failures of a child make a fallback (or failing-over loadbalance) node try the next one. */
  fallbackOn?: OutcomeSelector[];
  /** A breaker per target under this node, shared by every request through the registry. */
  circuitBreaker?: CircuitBreakerPolicy;
  /** Share of traffic when the parent is a `loadbalance` node (default 1). */
  weight?: number;
  /** The route's semantic cache; read on the top node only (elsewhere it is refused). */
  semanticCache?: SemanticCachePolicy;
}

/** One target: a model (`openai/gpt-4o-mini`, `name@3`, `name:production`) or another route's name. */
export interface SingleNode extends NodeSettings {
  strategy: 'single';
  target: string;
}

/** Children in order; the next one runs when the previous failed in a way `fallbackOn` lists. */
export interface FallbackNode extends NodeSettings {
  strategy: 'fallback';
  targets: RoutePolicy[];
}

/** One child drawn by weight; with `failover`, a failed child's traffic is redrawn among the rest. */
export interface LoadbalanceNode extends NodeSettings {
  strategy: 'loadbalance';
  targets: RoutePolicy[];
  failover: boolean;
}

export interface ConditionalClause {
  when: RouteCondition;
  use: RoutePolicy;
}

/** The first clause whose `when` matches the request runs, else `default`. */
export interface ConditionalNode extends NodeSettings {
  strategy: 'conditional';
  conditions: ConditionalClause[];
  default: RoutePolicy;
}

export type RoutePolicy = SingleNode | FallbackNode | LoadbalanceNode | ConditionalNode;
export type RouteStrategy = RoutePolicy['strategy'];

interface NodeSettingsInput {
  retry?: RouteRetryPolicyInput;
  timeoutMs?: number;
  fallbackOn?: OutcomeSelector[];
  circuitBreaker?: CircuitBreakerPolicyInput;
  weight?: number;
  semanticCache?: SemanticCachePolicyInput;
}

/** What users write: a bare string is shorthand for `{ strategy: single, target: <string> }`. */
export type RoutePolicyInput =
  | string
  | (NodeSettingsInput & { strategy: 'single'; target: string })
  | (NodeSettingsInput & { strategy: 'fallback'; targets: RoutePolicyInput[] })
  | (NodeSettingsInput & { strategy: 'loadbalance'; targets: RoutePolicyInput[]; failover?: boolean })
  | (NodeSettingsInput & {
      strategy: 'conditional';
      conditions: { when: RouteCondition; use: RoutePolicyInput }[];
      default: RoutePolicyInput;
    });

export const routeTargetSchema = z
  .string()
  .max(300)
  .superRefine((value, ctx) => {
    try {
      parseModelRef(value, 'target');
    } catch (error) {
      const reason = (error as Error).message.replace(/^target: /, '');
      ctx.addIssue({ code: 'custom', message: `must be a model or route name (${reason})` });
    }
  });

const settingsShape = {
  retry: retryPolicySchema.optional(),
  timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  fallbackOn: outcomeMatcherSchema.optional(),
  circuitBreaker: circuitBreakerPolicySchema.optional(),
  weight: z.number().min(0).max(1_000_000).optional(),
  semanticCache: semanticCachePolicySchema.optional(),
};

const childrenSchema = z
  .array(z.lazy(() => routePolicySchema))
  .min(1, 'must list at least one target')
  .max(64);

const nodeSchema = z.discriminatedUnion(
  'strategy',
  [
    z.strictObject({ strategy: z.literal('single'), target: routeTargetSchema, ...settingsShape }),
    z.strictObject({ strategy: z.literal('fallback'), targets: childrenSchema, ...settingsShape }),
    z
      .strictObject({
        strategy: z.literal('loadbalance'),
        targets: childrenSchema,
        failover: z.boolean().default(false),
        ...settingsShape,
      })
      .superRefine((node, ctx) => {
        if (!node.targets.some((child) => (child.weight ?? 1) > 0)) {
          ctx.addIssue({ code: 'custom', path: ['targets'], message: 'at least one target needs a weight above 0' });
        }
      }),
    z.strictObject({
      strategy: z.literal('conditional'),
      conditions: z
        .array(
          z.strictObject({
            when: routeConditionSchema,
            use: z.lazy(() => routePolicySchema),
          }),
        )
        .min(1, 'must list at least one condition')
        .max(32),
      default: z.lazy(() => routePolicySchema),
      ...settingsShape,
    }),
  ],
  {
    error:
      "must be a model or route name, or a node with strategy 'single', 'fallback', 'loadbalance' or 'conditional'",
  },
);

/** A policy node; validate whole trees with `parseRoutePolicy`, which also bounds their size. */
export const routePolicySchema: z.ZodType<RoutePolicy, RoutePolicyInput> = z.preprocess(
  (value) => (typeof value === 'string' ? { strategy: 'single', target: value } : value),
  nodeSchema,
) as unknown as z.ZodType<RoutePolicy, RoutePolicyInput>;
