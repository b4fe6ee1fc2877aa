import { z } from 'zod';
import type { ErrorFormatter } from './error-problem.ts';

/** OpenAI's error envelope, which the OpenAI SDKs parse; used on `/api` and `/v1` alike. */
export const openAiErrorBodySchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string(),
      request_id: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'ErrorBody', description: 'Every error, in the shape OpenAI clients understand' });

export type OpenAiErrorBody = z.infer<typeof openAiErrorBodySchema>;

export const formatOpenAiError: ErrorFormatter = (problem): OpenAiErrorBody => ({
  error: {
    message: problem.message,
    type: problem.type,
    param: problem.param,
    code: problem.code,
    request_id: problem.requestId,
    ...(problem.details === undefined ? {} : { details: problem.details }),
  },
});
