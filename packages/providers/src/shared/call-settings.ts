import { z } from 'zod';

/**
 * How a hosted call is made, common to every hosted provider (`spec.options`). Retries default to 0:
 * the router owns retries and fallbacks (RoutePolicy.retry); SDK retries underneath would multiply them.
 */
export const callSettingsShape = {
  timeoutMs: z.number().int().positive().max(600_000).default(60_000),
  maxRetries: z.number().int().min(0).max(10).default(0),
};

/** Sampling parameters every chat provider accepts (`spec.parameters`), in Ensemble's camelCase names. */
export const chatParametersShape = {
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
  topP: z.number().min(0).max(1).optional(),
  stop: z.array(z.string()).max(16).optional(),
};
