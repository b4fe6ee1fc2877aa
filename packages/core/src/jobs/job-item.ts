import { validationError } from '../errors/ensemble-error.ts';
import type { JobModelKind } from './job.ts';

/** One item of a job as stored: the request body sent for it, and the caller's id for it. */
export interface JobItemInput {
  customId: string | null;
  /** The request body without `model` (the job's model is set when the item runs). */
  body: Record<string, unknown>;
}

const maxEmbeddingInputs = 2_048;

/**
 * Checks one batch-inference request against the model's kind and returns the item to store:
 * `chat` needs `messages` (a non-empty array of messages with a role), `embedding` needs `input`
 * (a text or a list of texts). `stream` is refused (a job keeps whole answers), and so is a `model`
 * other than the job's. `field` names the request in messages (`body.inputs[3]`, `inputFile line 4`).
 */
export function batchItemOf(
  request: Record<string, unknown>,
  kind: JobModelKind,
  jobModel: string,
  field: string,
): JobItemInput {
  const { customId, model, ...body } = request;
  if (customId !== undefined && (typeof customId !== 'string' || customId.length === 0 || customId.length > 200)) {
    throw validationError(`${field}.customId`, 'must be a string of 1-200 characters');
  }
  if (model !== undefined && model !== jobModel) {
    throw validationError(`${field}.model`, `the job's model ('${jobModel}') applies to every item; remove it`);
  }
  if (body.stream === true) throw validationError(`${field}.stream`, 'a job keeps whole answers; remove stream');
  if (kind === 'chat') checkMessages(body.messages, `${field}.messages`);
  else checkEmbeddingInput(body.input, `${field}.input`);
  return { customId: (customId as string | undefined) ?? null, body };
}

/**
 * One item of a `pipeline-run` job: `{"input": …, "customId"?: …}`, the input checked by `checkInput`
 * (the pipeline's input schema; it throws a `validation_failed` naming `input.<path>`).
 */
export function pipelineRunItemOf(raw: unknown, field: string, checkInput: (input: unknown) => unknown): JobItemInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw validationError(field, 'must be a JSON object: {"input": …, "customId"?: …}');
  }
  const { customId, input, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) {
    throw validationError(`${field}.${extra}`, 'is not a field of a pipeline-run item (input, customId)');
  }
  if (customId !== undefined && (typeof customId !== 'string' || customId.length === 0 || customId.length > 200)) {
    throw validationError(`${field}.customId`, 'must be a string of 1-200 characters');
  }
  if (input === undefined) throw validationError(`${field}.input`, "is required: the pipeline's input");
  let checked: unknown;
  try {
    checked = checkInput(input);
  } catch (error) {
    // `input.text: …` from the pipeline's schema, placed under the item: `body.inputs[2].input.text: …`.
    const message = error instanceof Error ? error.message : String(error);
    throw validationError(field, message);
  }
  return { customId: (customId as string | undefined) ?? null, body: { input: checked } };
}

/** One text of an `embed` job (a string, or `{customId, text}`) as the embeddings request of its item. */
export function embedItemOf(input: string | { customId?: string | undefined; text: string }): JobItemInput {
  if (typeof input === 'string') return { customId: null, body: { input } };
  return { customId: input.customId ?? null, body: { input: input.text } };
}

function checkMessages(messages: unknown, field: string): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw validationError(field, 'a chat model needs a non-empty array of messages');
  }
  messages.forEach((message, i) => {
    const role = (message as { role?: unknown } | null)?.role;
    if (typeof message !== 'object' || message === null || typeof role !== 'string') {
      throw validationError(`${field}[${i}]`, 'must be a message object with a role');
    }
  });
}

function checkEmbeddingInput(input: unknown, field: string): void {
  if (typeof input === 'string' && input.length > 0) return;
  if (
    Array.isArray(input) &&
    input.length > 0 &&
    input.length <= maxEmbeddingInputs &&
    input.every((text) => typeof text === 'string' && text.length > 0)
  ) {
    return;
  }
  throw validationError(field, `an embedding model needs a text or a list of 1-${maxEmbeddingInputs} texts`);
}
