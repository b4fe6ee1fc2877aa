import {
  type ArtifactStore,
  batchItemOf,
  type JobItemInput,
  type JobModelKind,
  readJsonLines,
  validationError,
} from '@ensemble/core';
import type { JobInputLimits } from '../jobs/job-inputs.ts';

const field = 'input_file_id';

/** The model the batch file's first request names (every line must name the same one). */
export async function batchFileModel(
  artifacts: ArtifactStore,
  sha256: string,
  limits: JobInputLimits,
): Promise<string> {
  for await (const { line, value } of readJsonLines(await artifacts.open(sha256), {
    field,
    maxLineBytes: limits.maxItemBytes,
  })) {
    const model = (value as { body?: { model?: unknown } } | null)?.body?.model;
    if (typeof model !== 'string' || model === '') throw validationError(field, `line ${line}: body.model is missing`);
    return model;
  }
  throw validationError(field, 'the file has no requests');
}

/**
 * The requests of an OpenAI batch file as job items, chunk by chunk: each line
 * `{"custom_id", "method": "POST", "url": <the batch's endpoint>, "body": {…}}`, with a unique
 * `custom_id` and the same `body.model` throughout. A bad line is a 400 naming it.
 */
export async function* openAiBatchItems(
  artifacts: ArtifactStore,
  sha256: string,
  endpoint: string,
  model: string,
  kind: JobModelKind,
  limits: JobInputLimits,
): AsyncGenerator<readonly JobItemInput[]> {
  const seen = new Set<string>();
  let chunk: JobItemInput[] = [];
  let count = 0;
  for await (const { line, value } of readJsonLines(await artifacts.open(sha256), {
    field,
    maxLineBytes: limits.maxItemBytes,
  })) {
    const at = `${field} line ${line}`;
    const request = value as { custom_id?: unknown; method?: unknown; url?: unknown; body?: unknown } | null;
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw validationError(field, `line ${line}: must be a JSON object with custom_id, method, url and body`);
    }
    const { custom_id: customId, method, url, body } = request;
    if (typeof customId !== 'string' || customId === '' || customId.length > 200) {
      throw validationError(field, `line ${line}: custom_id must be a string of 1-200 characters`);
    }
    if (seen.has(customId)) throw validationError(field, `line ${line}: custom_id '${customId}' is used twice`);
    seen.add(customId);
    if (method !== 'POST') throw validationError(field, `line ${line}: method must be POST`);
    if (url !== endpoint) throw validationError(field, `line ${line}: url must be the batch's endpoint, ${endpoint}`);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw validationError(field, `line ${line}: body must be a JSON object`);
    }
    const bodyModel = (body as { model?: unknown }).model;
    if (bodyModel !== model) {
      throw validationError(
        field,
        `line ${line}: body.model must be '${model}', as on the first line (one model per batch)`,
      );
    }
    count += 1;
    if (count > limits.maxItems) throw validationError(field, `has more than ${limits.maxItems} requests`);
    chunk.push(batchItemOf({ ...(body as Record<string, unknown>), customId }, kind, model, `${at}.body`));
    if (chunk.length === 1_000) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
  if (count === 0) throw validationError(field, 'the file has no requests');
}
