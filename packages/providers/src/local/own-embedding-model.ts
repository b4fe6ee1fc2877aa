import { type RuntimeSpec, validationError } from '@ensemble/core';
import { z } from 'zod';
import { parseSpecField } from '../shared/parse-spec-field.ts';

/**
 * What a user's own ONNX embedding model needs besides its file, in `options` (next to the
 * deployment settings): the tokenizer it was trained with, stored in the artifact store like the model.
 */
const ownEmbeddingOptions = z.object({
  tokenizer: z
    .string({ error: "the sha256 of the model's tokenizer.json in the artifact store (upload it like the model)" })
    .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits: the sha256 of an uploaded tokenizer.json'),
  /** `mean` for sentence-transformers models (MiniLM, e5, gte), `cls` for BGE. */
  pooling: z.enum(['mean', 'cls']).default('mean'),
  /** Longer texts are cut; BERT-style models were trained on at most 512. */
  maxInputTokens: z.number().int().min(8).max(8192).default(512),
});

export interface OwnEmbeddingModel {
  modelSha256: string;
  tokenizerSha256: string;
  pooling: 'mean' | 'cls';
  maxInputTokens: number;
}

/** Reads a user's ONNX embedding model out of its registry entry, naming the field that is wrong. */
export function ownEmbeddingModel(spec: RuntimeSpec): OwnEmbeddingModel {
  if (spec.artifact?.format !== 'onnx') {
    throw validationError(
      'artifact',
      `local embedding model '${spec.name}' needs an ONNX artifact (artifact.format 'onnx') or a built-in model id (all-minilm-l6-v2)`,
    );
  }
  const options = parseSpecField(ownEmbeddingOptions, spec.options, 'options', spec.name);
  return {
    modelSha256: spec.artifact.sha256,
    tokenizerSha256: options.tokenizer,
    pooling: options.pooling,
    maxInputTokens: options.maxInputTokens,
  };
}
