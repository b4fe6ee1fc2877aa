import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { type LengthBucketOptions, lengthBuckets } from './length-buckets.ts';
import type { ReplicaBackend } from './worker-protocol.ts';

/** How token vectors become one text vector: their mean (sentence-transformers' default) or the first ([CLS]). */
export type Pooling = 'mean' | 'cls';

export interface SentenceEmbedderOptions {
  modelPath: string;
  /** A Hugging Face `tokenizer.json` that matches the model. */
  tokenizerPath: string;
  /** Longer texts are cut to this many tokens (all-MiniLM-L6-v2 was trained on 256). */
  maxTokens: number;
  pooling: Pooling;
  /** ONNX Runtime threads per replica; replicas × threads should not exceed the cores. */
  threads: number;
  /**
   * Whether ONNX Runtime's extra threads busy-wait for work between operators (its default). Off by
   * default here: on cores shared with the server and other replicas, spinning threads burn the CPU the
   * others need (bench/models/kernel.ts --spinning both).
   */
  spinning?: boolean;
  /** How a batch is split into model calls by length; `false` pads the whole batch to its longest. */
  bucketing?: LengthBucketOptions | false;
}

/**
 * A model call costs about as much as 10–16 more padded tokens (≈ 0.7 ms per call against ≈ 0.07 ms
 * per token for MiniLM on one thread, bench/models/kernel.ts); 2,048 tokens per call bounds one call's
 * activations (≈ 12 MB in the feed-forward layer of a 384-wide model).
 */
export const defaultBucketing: LengthBucketOptions = { runOverheadTokens: 16, maxTokensPerRun: 2048 };

/**
 * A BERT-style sentence embedder in ONNX (all-MiniLM-L6-v2 int8 built in, or a user's file):
 * tokens → encoder → pooling over real tokens → L2 normalisation, as sentence-transformers does.
 * Takes `input_ids`, `attention_mask` (and `token_type_ids` when the model has it); reads
 * `last_hidden_state` (else the first output), or an already pooled 2-D output. Runs in a replica.
 */
export async function loadBackend(raw: unknown): Promise<ReplicaBackend> {
  const options = raw as SentenceEmbedderOptions;
  const tokenizer = new Tokenizer(JSON.parse(await readFile(options.tokenizerPath, 'utf8')), {});
  const session = await ort.InferenceSession.create(options.modelPath, {
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: options.spinning === true ? '1' : '0' } } },
  });

  const bucketing = options.bucketing ?? defaultBucketing;

  async function embed(texts: string[]): Promise<number[][]> {
    const encoded = texts.map((text) => {
      const ids = tokenizer.encode(text).ids;
      // Cut, keeping the closing special token ([SEP], </s>) the tokenizer put last.
      return ids.length <= options.maxTokens ? ids : [...ids.slice(0, options.maxTokens - 1), ids.at(-1) as number];
    });
    const vectors = new Array<number[]>(texts.length);
    const runs =
      bucketing === false
        ? [encoded.map((_, row) => row)]
        : lengthBuckets(
            encoded.map((ids) => ids.length),
            bucketing,
          );
    for (const rows of runs) {
      const run = await embedRun(rows.map((row) => encoded[row] as number[]));
      rows.forEach((row, index) => {
        vectors[row] = run[index] as number[];
      });
    }
    return vectors;
  }

  /** One model call over rows padded to the longest of them. */
  async function embedRun(encoded: number[][]): Promise<number[][]> {
    const batch = encoded.length;
    const length = Math.max(...encoded.map((ids) => ids.length));
    const inputIds = new BigInt64Array(batch * length);
    const mask = new BigInt64Array(batch * length);
    encoded.forEach((ids, row) => {
      ids.forEach((id: number, column: number) => {
        inputIds[row * length + column] = BigInt(id);
        mask[row * length + column] = 1n;
      });
    });
    const shape = [batch, length];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', inputIds, shape),
      attention_mask: new ort.Tensor('int64', mask, shape),
    };
    if (session.inputNames.includes('token_type_ids')) {
      feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(batch * length), shape);
    }
    const outputs = await session.run(feeds);
    const output = outputs.last_hidden_state ?? outputs[session.outputNames[0] ?? ''];
    if (output === undefined || output.type !== 'float32' || (output.dims.length !== 2 && output.dims.length !== 3)) {
      throw new Error(
        `the ONNX model's output ${session.outputNames[0] ?? '(none)'} is not float32 token or sentence vectors`,
      );
    }
    const data = output.data as Float32Array;
    if (output.dims.length === 2) {
      // Already pooled by the model (a `sentence_embedding` output).
      const width = output.dims[1] ?? 0;
      return encoded.map((_, row) => normalised(Array.from(data.subarray(row * width, (row + 1) * width))));
    }
    const width = output.dims[2] ?? 0;
    return encoded.map((ids, row) =>
      options.pooling === 'cls'
        ? normalised(Array.from(data.subarray(row * length * width, row * length * width + width)))
        : meanPoolNormalised(data, row, ids.length, length, width),
    );
  }

  return {
    handlers: {
      embed: async (input) => embed(input as string[]),
    },
    dispose: () => session.release(),
  };
}

function meanPoolNormalised(hidden: Float32Array, row: number, tokens: number, length: number, width: number) {
  const vector = new Array<number>(width).fill(0);
  for (let t = 0; t < tokens; t++) {
    const offset = (row * length + t) * width;
    for (let d = 0; d < width; d++) vector[d] = (vector[d] as number) + (hidden[offset + d] as number);
  }
  for (let d = 0; d < width; d++) vector[d] = (vector[d] as number) / tokens;
  return normalised(vector);
}

function normalised(vector: number[]): number[] {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  return vector.map((value) => value / norm);
}
