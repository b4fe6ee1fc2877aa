import assert from 'node:assert/strict';
import { type ModelRuntime, type RuntimeContext, type RuntimeSpec, silentLogger } from '@ensemble/core';
import type { Embeddings } from '@langchain/core/embeddings';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';

/** A runtime spec for tests: a chat model unless told otherwise. */
export function makeSpec(overrides: Partial<RuntimeSpec> & Pick<RuntimeSpec, 'name' | 'providerModelId'>): RuntimeSpec {
  return { kind: 'chat', parameters: {}, options: {}, ...overrides };
}

export function makeContext(secret?: string): RuntimeContext {
  return { logger: silentLogger, ...(secret === undefined ? {} : { secret }) };
}

/** The runtime's chat model; fails the test when the provider built something else. */
export function chatOf(runtime: ModelRuntime): BaseChatModel {
  assert.ok(runtime.chat, `expected a chat runtime, got kind '${runtime.kind}'`);
  return runtime.chat;
}

export function embeddingsOf(runtime: ModelRuntime): Embeddings {
  assert.ok(runtime.embeddings, `expected an embedding runtime, got kind '${runtime.kind}'`);
  return runtime.embeddings;
}
