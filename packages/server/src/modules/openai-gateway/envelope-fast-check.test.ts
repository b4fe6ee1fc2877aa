import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatCompletionEnvelopeSchema, embeddingsEnvelopeSchema } from './chat-completion-envelope.ts';
import { isPlainChatEnvelope, isPlainEmbeddingsEnvelope } from './envelope-fast-check.ts';

const chat = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

/** Bodies the hand check may pass: it must never pass one zod refuses. */
const chatBodies: unknown[] = [
  chat,
  { ...chat, stream: true, stream_options: { include_usage: true }, max_tokens: 64, temperature: 0.2, top_p: 1, n: 2 },
  { ...chat, user: 'u', metadata: { team: 'search' }, tools: [{ type: 'function' }], seed: 1 },
  { ...chat, stream: null, stream_options: null, max_tokens: null, temperature: null, metadata: null },
  { ...chat, model: '' },
  { ...chat, model: 'x'.repeat(301) },
  { ...chat, messages: [] },
  { ...chat, messages: [{ role: 'wizard' }] },
  { ...chat, messages: ['hi'] },
  { ...chat, messages: [null] },
  { ...chat, stream: 'yes' },
  { ...chat, stream_options: { include_usage: 'yes' } },
  { ...chat, stream_options: [] },
  { ...chat, max_tokens: 0 },
  { ...chat, max_tokens: 1.5 },
  { ...chat, max_completion_tokens: -1 },
  { ...chat, temperature: 3 },
  { ...chat, temperature: Number.NaN },
  { ...chat, top_p: 1.5 },
  { ...chat, n: 0 },
  { ...chat, n: 129 },
  { ...chat, user: 42 },
  { ...chat, user: 'u'.repeat(1_001) },
  { ...chat, metadata: { team: 1 } },
  { ...chat, metadata: { team: 'x'.repeat(513) } },
  { ...chat, metadata: ['a'] },
  [chat],
  null,
  'text',
];

const embeddingBodies: unknown[] = [
  { model: 'e', input: 'hello' },
  { model: 'e', input: ['a', 'b'], encoding_format: 'base64', dimensions: 3 },
  { model: 'e', input: [] },
  { model: 'e', input: 42 },
  { model: 'e', input: 'a', encoding_format: 'utf8' },
  { model: '', input: 'a' },
];

describe('the hand-written envelope checks', () => {
  it('never pass a chat body zod refuses, and pass the usual ones', () => {
    for (const body of chatBodies) {
      if (isPlainChatEnvelope(body)) {
        assert.ok(chatCompletionEnvelopeSchema.safeParse(body).success, JSON.stringify(body));
      }
    }
    assert.ok(
      isPlainChatEnvelope(chatBodies[0]) && isPlainChatEnvelope(chatBodies[1]) && isPlainChatEnvelope(chatBodies[2]),
    );
    assert.ok(isPlainChatEnvelope(chatBodies[3]));
  });

  it('never pass an embeddings body zod refuses', () => {
    for (const body of embeddingBodies) {
      if (isPlainEmbeddingsEnvelope(body)) {
        assert.ok(embeddingsEnvelopeSchema.safeParse(body).success, JSON.stringify(body));
      }
    }
    assert.ok(isPlainEmbeddingsEnvelope(embeddingBodies[0]) && isPlainEmbeddingsEnvelope(embeddingBodies[1]));
  });

  it('agree with zod on every case above', () => {
    for (const body of chatBodies) {
      assert.equal(
        isPlainChatEnvelope(body),
        chatCompletionEnvelopeSchema.safeParse(body).success,
        JSON.stringify(body),
      );
    }
    for (const body of embeddingBodies) {
      assert.equal(
        isPlainEmbeddingsEnvelope(body),
        embeddingsEnvelopeSchema.safeParse(body).success,
        JSON.stringify(body),
      );
    }
  });
});
