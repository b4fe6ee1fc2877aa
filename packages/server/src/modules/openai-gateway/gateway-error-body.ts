import type { ErrorFormatter, ErrorProblem } from '../../errors/error-problem.ts';

export interface GatewayErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

/** Request fields as OpenAI names them: `messages.0.role`, not `body.messages.0.role`. */
function openAiParam(problem: ErrorProblem): string | null {
  if (problem.code === 'not_found') return 'model';
  if (problem.param === null) return null;
  return problem.param.replace(/^body\./, '');
}

/**
 * OpenAI's exact error body, `{error: {message, type, param, code}}`, for everything under `/v1`.
 * On `/v1` the only thing that can be missing is a model, so `not_found` is OpenAI's `model_not_found`.
 */
export const formatGatewayError: ErrorFormatter = (problem): GatewayErrorBody => ({
  error: {
    message: problem.message,
    type: problem.type,
    param: openAiParam(problem),
    code: problem.code === 'not_found' ? 'model_not_found' : problem.code,
  },
});
