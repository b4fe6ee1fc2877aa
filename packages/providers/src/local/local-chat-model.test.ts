import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '@ensemble/core';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { builtInArtifacts, builtInSpec } from './built-in-artifacts.testing.ts';
import type { LocalChatModel } from './local-chat-model.ts';
import { createLocalProvider, type LocalModelRuntime } from './local-provider.ts';

// Few tokens per test: a 135M model on 2 shared cores makes tens of tokens per second.
describe('local chat model (SmolLM2-135M-Instruct GGUF on llama.cpp, in a replica)', () => {
  let runtime: LocalModelRuntime;
  before(async () => {
    const provider = createLocalProvider({ artifacts: await builtInArtifacts() });
    runtime = (await provider.createRuntime(
      builtInSpec('local/smollm2-135m-instruct', { parameters: { temperature: 0, maxTokens: 24 } }),
      { logger: silentLogger },
    )) as LocalModelRuntime;
  });
  after(() => runtime.dispose());

  const question = [
    new SystemMessage('You are a concise assistant.'),
    new HumanMessage('What is the capital of France? Answer in one word.'),
  ];

  it('answers with the chat template from the GGUF and reports token usage', async () => {
    const chat = runtime.chat as LocalChatModel | undefined;
    assert.ok(chat);
    const answer = await chat.invoke(question);
    assert.match(answer.text, /Paris/);
    assert.ok((answer.usage_metadata?.output_tokens ?? 0) > 0);
    assert.ok((answer.usage_metadata?.input_tokens ?? 0) > 5);
  });

  it('streams more than one chunk, and the chunks add up to the non-streamed answer at temperature 0', async () => {
    const chat = runtime.chat as LocalChatModel | undefined;
    assert.ok(chat);
    const whole = (await chat.invoke(question)).text;
    const chunks: string[] = [];
    for await (const chunk of await chat.stream(question)) if (chunk.text !== '') chunks.push(chunk.text);
    assert.ok(chunks.length > 1, `chunks: ${JSON.stringify(chunks)}`);
    assert.equal(chunks.join(''), whole);
  });

  it('honours maxTokens and stop', async () => {
    const chat = runtime.chat as LocalChatModel | undefined;
    assert.ok(chat);
    const short = await chat.invoke([new HumanMessage('Count from one to twenty in words.')], { maxTokens: 3 });
    assert.equal(short.usage_metadata?.output_tokens, 3);
    assert.equal(short.response_metadata.finish_reason, 'length');
    const stopped = await chat.invoke([new HumanMessage('Count from 1 to 20, separated by commas.')], {
      stop: ['5'],
      maxTokens: 40,
    });
    assert.doesNotMatch(stopped.text, /5|6|7/);
  });

  it('stops generating when the signal aborts, and the replica serves the next call', async () => {
    const chat = runtime.chat as LocalChatModel | undefined;
    assert.ok(chat);
    const controller = new AbortController();
    const chunks: string[] = [];
    const started = performance.now();
    await assert.rejects(async () => {
      const stream = await chat.stream([new HumanMessage('Write a long story about a dragon.')], {
        signal: controller.signal,
        maxTokens: 400,
      });
      for await (const chunk of stream) {
        chunks.push(chunk.text);
        if (chunks.length === 2) controller.abort();
      }
    });
    assert.ok(chunks.length < 10, `kept streaming after abort: ${chunks.length} chunks`);
    assert.ok(performance.now() - started < 30_000);
    assert.match((await chat.invoke(question)).text, /Paris/);
    assert.deepEqual(runtime.stats().restarts, 0);
  });
});
