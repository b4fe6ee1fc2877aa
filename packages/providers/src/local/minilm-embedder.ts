import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import type { ReplicaBackend } from './worker-protocol.ts';

export interface MiniLmEmbedderOptions {
  modelPath: string;
  tokenizerPath: string;
  /** Longer texts are cut to this many tokens (all-MiniLM-L6-v2 was trained on 256). */
  maxTokens: number;
  /** ONNX Runtime threads per replica; replicas × threads should not exceed the cores. */
  threads: number;
}

/**
 * A BERT-style sentence embedder in ONNX (all-MiniLM-L6-v2, int8): WordPiece tokens → encoder →
 * mean pooling over real tokens → L2 normalisation, as sentence-transformers does. Runs in a replica.
 */
export async function loadBackend(raw: unknown): Promise<ReplicaBackend> {
  const options = raw as MiniLmEmbedderOptions;
  const tokenizer = new Tokenizer(JSON.parse(await readFile(options.tokenizerPath, 'utf8')), {});
  const sepId = tokenizer.token_to_id('[SEP]') ?? 102;
  const session = await ort.InferenceSession.create(options.modelPath, {
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });

  async function embed(texts: string[]): Promise<number[][]> {
    const encoded = texts.map((text) => {
      const ids = tokenizer.encode(text).ids;
      return ids.length <= options.maxTokens ? ids : [...ids.slice(0, options.maxTokens - 1), sepId];
    });
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
    const output = (await session.run(feeds)).last_hidden_state;
    if (output === undefined) throw new Error('the ONNX model has no last_hidden_state output');
    const hidden = output.data as Float32Array;
    const width = output.dims[2] ?? 0;
    return encoded.map((ids, row) => meanPoolNormalised(hidden, row, ids.length, length, width));
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
  let norm = 0;
  for (let d = 0; d < width; d++) {
    const mean = (vector[d] as number) / tokens;
    vector[d] = mean;
    norm += mean * mean;
  }
  norm = Math.sqrt(norm) || 1;
  return vector.map((value) => value / norm);
}
