import {
  type ArtifactStore,
  batchItemOf,
  embedInputSchema,
  embedItemOf,
  type JobItemInput,
  type JobModelKind,
  type JobSpec,
  pipelineRunItemOf,
  readJsonLines,
  validationError,
} from '@ensemble/core';

export interface JobInputLimits {
  /** JOBS_MAX_ITEMS */
  maxItems: number;
  /** JOBS_MAX_ITEM_BYTES: the longest line of an input file. */
  maxItemBytes: number;
}

/** What a job's items must be: requests for a model of a kind, texts to embed, or a pipeline's inputs. */
export type ItemShape =
  | { type: 'batch-inference' | 'embed'; kind: JobModelKind; model: string }
  | { type: 'pipeline-run'; checkInput: (input: unknown) => unknown };

const chunkSize = 1_000;

/**
 * The items of a submission, in chunks for the repository. Inline inputs are all checked here,
 * before anything is written; a file's lines are checked as they are read inside the submission's
 * transaction, so a bad line anywhere rolls the whole job back (a 400 naming the line).
 */
export async function jobInputs(
  shape: ItemShape,
  spec: Pick<JobSpec, 'inputs' | 'inputFile'>,
  limits: JobInputLimits,
  artifacts: ArtifactStore,
  /** Whether the caller's project uploaded this file: another project's upload does not exist for it. */
  owned: (sha256: string) => Promise<boolean>,
): Promise<AsyncIterable<readonly JobItemInput[]>> {
  const toItem = (raw: unknown, field: string): JobItemInput =>
    shape.type === 'pipeline-run'
      ? pipelineRunItemOf(raw, field, shape.checkInput)
      : shape.type === 'embed'
        ? embedLine(raw, field)
        : batchLine(raw, shape.kind, shape.model, field);
  if (spec.inputs !== undefined) {
    if (spec.inputs.length > limits.maxItems) {
      throw validationError(
        'body.inputs',
        `has ${spec.inputs.length} items; a job may have at most ${limits.maxItems}`,
      );
    }
    const items = (spec.inputs as unknown[]).map((raw, i) => toItem(raw, `body.inputs[${i}]`));
    return chunked(items);
  }
  const sha256 = spec.inputFile as string;
  if (!(await owned(sha256)) || !(await artifacts.has(sha256))) {
    throw validationError('body.inputFile', 'no upload has this sha256; upload the JSONL file to /api/artifacts first');
  }
  return fileItems(artifacts, sha256, limits, toItem);
}

async function* chunked(items: readonly JobItemInput[]): AsyncGenerator<readonly JobItemInput[]> {
  for (let i = 0; i < items.length; i += chunkSize) yield items.slice(i, i + chunkSize);
}

async function* fileItems(
  artifacts: ArtifactStore,
  sha256: string,
  limits: JobInputLimits,
  toItem: (raw: unknown, field: string) => JobItemInput,
): AsyncGenerator<readonly JobItemInput[]> {
  const field = 'body.inputFile';
  let chunk: JobItemInput[] = [];
  let count = 0;
  for await (const { line, value } of readJsonLines(await artifacts.open(sha256), {
    field,
    maxLineBytes: limits.maxItemBytes,
  })) {
    count += 1;
    if (count > limits.maxItems)
      throw validationError(field, `has more than ${limits.maxItems} items (JOBS_MAX_ITEMS)`);
    chunk.push(toItem(value, `${field} line ${line}`));
    if (chunk.length === chunkSize) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
  if (count === 0) throw validationError(field, 'the file has no items (one JSON value per line)');
}

function batchLine(raw: unknown, kind: JobModelKind, model: string, field: string): JobItemInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw validationError(field, 'must be a JSON object (a request body)');
  }
  return batchItemOf(raw as Record<string, unknown>, kind, model, field);
}

function embedLine(raw: unknown, field: string): JobItemInput {
  const parsed = embedInputSchema.safeParse(raw);
  if (!parsed.success) throw validationError(field, 'must be a text, or {"customId": …, "text": …}');
  return embedItemOf(parsed.data);
}
