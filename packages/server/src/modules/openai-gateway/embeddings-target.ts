import { EnsembleError, type LoadedModel, validationError } from '@ensemble/core';
import type { TargetCallContext } from './chat-target.ts';
import { embeddingsRequestSchema } from './embeddings-request.ts';
import { encodeEmbeddingBase64 } from './encode-embedding.ts';
import { forwardedEmbeddingsBody } from './forward-body.ts';
import { parseRequestBody } from './parse-request-body.ts';
import { passThroughJson, type WireAnswer } from './pass-through.ts';
import { targetLabel } from './target-label.ts';

interface EmbeddingList {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** Embeddings from one target: forwarded to an OpenAI-wire upstream, else computed by the LangChain runtime. */
export async function embed(
  loaded: LoadedModel,
  request: Readonly<Record<string, unknown>>,
  context: TargetCallContext,
): Promise<WireAnswer> {
  const wire = loaded.runtime.openAiWire;
  if (wire !== undefined) {
    const answer = await passThroughJson({
      dispatcher: context.dispatcher,
      wire,
      operation: 'embeddings',
      body: forwardedEmbeddingsBody(request, wire),
      signal: context.signal,
      target: targetLabel(loaded.descriptor),
    });
    // A server that answers only floats, to a client that asked for base64: encode them here.
    if (!wire.floatEmbeddingsOnly || request.encoding_format !== 'base64') return answer;
    const list = JSON.parse(answer.body.toString('utf8')) as EmbeddingList;
    for (const item of list.data) {
      if (Array.isArray(item.embedding)) item.embedding = encodeEmbeddingBase64(item.embedding);
    }
    return { ...answer, body: Buffer.from(JSON.stringify(list)) };
  }
  return embedWithLangChain(loaded, request);
}

async function embedWithLangChain(loaded: LoadedModel, request: unknown): Promise<WireAnswer> {
  const { descriptor, runtime } = loaded;
  if (runtime.embeddings === undefined) {
    throw new EnsembleError('internal_error', `the runtime of model '${descriptor.name}' lacks embeddings`);
  }
  const body = parseRequestBody(embeddingsRequestSchema, request);
  const texts = typeof body.input === 'string' ? [body.input] : body.input;
  const vectors = await runtime.embeddings.embedDocuments(texts);
  const dimensions = vectors[0]?.length ?? 0;
  if (body.dimensions !== undefined && body.dimensions !== dimensions) {
    throw validationError('body.dimensions', `model '${descriptor.name}' answers ${dimensions} dimensions`);
  }
  const base64 = body.encoding_format === 'base64';
  const list: EmbeddingList = {
    object: 'list',
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: base64 ? encodeEmbeddingBase64(vector) : vector,
    })),
    model: descriptor.name,
    // Embedding runtimes do not report token counts yet.
    usage: { prompt_tokens: 0, total_tokens: 0 },
  };
  return {
    body: Buffer.from(JSON.stringify(list)),
    contentType: 'application/json; charset=utf-8',
    usage: { inputTokens: 0, outputTokens: 0 },
  };
}
