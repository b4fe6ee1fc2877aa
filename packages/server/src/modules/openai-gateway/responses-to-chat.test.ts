import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError, validationError } from '@ensemble/core';
import { responsesRequestSchema } from './responses-request.ts';
import { chatBodyFor, inResponsesTerms, responsesToChat } from './responses-to-chat.ts';

const translate = (body: Record<string, unknown>) =>
  responsesToChat(responsesRequestSchema.parse({ model: 'm', ...body }));

const refusedOn = (body: Record<string, unknown>, field: string) =>
  assert.throws(
    () => translate(body),
    (error: unknown) => EnsembleError.isInstance(error) && error.field === field,
  );

describe('responsesToChat', () => {
  it('turns a string input and instructions into system and user messages, sampling kept', () => {
    assert.deepEqual(translate({ input: 'Hi', instructions: 'Be brief.', temperature: 0, max_output_tokens: 9 }), {
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      max_completion_tokens: 9,
      temperature: 0,
    });
  });

  it('keeps a stream flag, json_object mode, and leaves parallel_tool_calls out without tools', () => {
    const chat = translate({
      input: 'Hi',
      stream: true,
      text: { format: { type: 'json_object' } },
      parallel_tool_calls: true,
    });
    assert.equal(chat.stream, true);
    assert.deepEqual(chat.response_format, { type: 'json_object' });
    assert.equal('parallel_tool_calls' in chat, false);
  });

  it('gives function calls without text their own assistant message', () => {
    const chat = translate({
      input: [
        { role: 'user', content: 'Weather?' },
        { type: 'function_call', call_id: 'c1', name: 'w', arguments: '{}' },
        { type: 'function_call', call_id: 'c2', name: 'w', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_text', text: 'sunny' }] },
        { type: 'reasoning', id: 'rs_1', summary: [] },
      ],
    });
    assert.deepEqual(chat.messages, [
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } },
          { id: 'c2', type: 'function', function: { name: 'w', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
    ]);
  });

  it('sends max_tokens to servers other than OpenAI’s own', () => {
    const chat = translate({ input: 'Hi', max_output_tokens: 5 });
    assert.equal(chatBodyFor(chat, 'openai').max_completion_tokens, 5);
    assert.equal(chatBodyFor(chat, 'azure-openai').max_completion_tokens, 5);
    const other = chatBodyFor(chat, 'openai-compatible');
    assert.equal(other.max_tokens, 5);
    assert.equal('max_completion_tokens' in other, false);
  });

  it('keeps OpenAI’s newer fields (reasoning effort, verbosity, …) for OpenAI’s own targets only', () => {
    const chat = translate({
      input: 'Hi',
      reasoning: { effort: 'low', summary: 'auto' },
      text: { verbosity: 'low' },
      service_tier: 'flex',
      safety_identifier: 'u-1',
      prompt_cache_key: 'k',
    });
    const fields = {
      reasoning_effort: 'low',
      verbosity: 'low',
      service_tier: 'flex',
      safety_identifier: 'u-1',
      prompt_cache_key: 'k',
    };
    assert.deepEqual(chatBodyFor(chat, 'openai'), {
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      ...fields,
    });
    assert.deepEqual(chatBodyFor(chat, 'openai-compatible'), {
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
    });
  });

  it('names chat fields refused after the translation as the Responses request named them', () => {
    const renamed = (field: string) => {
      const error = inResponsesTerms(validationError(field, 'not supported yet', { attempts: 2 }));
      assert.ok(EnsembleError.isInstance(error));
      return [error.field, error.message, error.details?.attempts];
    };
    assert.deepEqual(renamed('body.response_format'), ['body.text.format', 'body.text.format: not supported yet', 2]);
    assert.deepEqual(renamed('body.max_tokens')[0], 'body.max_output_tokens');
    assert.deepEqual(renamed('body.messages[2].content[0]')[0], 'body.input');
    assert.deepEqual(renamed('body.tools')[0], 'body.tools');
    const other = new EnsembleError('upstream_error', 'x');
    assert.equal(inResponsesTerms(other), other);
  });

  it('refuses what needs stored state or hosted tools, naming the field', () => {
    refusedOn({ input: 'Hi', previous_response_id: 'resp_1' }, 'body.previous_response_id');
    refusedOn({ input: 'Hi', conversation: { id: 'conv_1' } }, 'body.conversation');
    refusedOn({ input: 'Hi', background: true }, 'body.background');
    refusedOn({ input: 'Hi', prompt: { id: 'pmpt_1' } }, 'body.prompt');
    refusedOn({ input: 'Hi', tools: [{ type: 'file_search', vector_store_ids: ['vs'] }] }, 'body.tools[0].type');
    refusedOn({ input: 'Hi', tools: [{ type: 'function', name: 'bad name' }] }, 'body.tools[0].name');
    refusedOn({ input: 'Hi', tool_choice: { type: 'web_search_preview' } }, 'body.tool_choice');
    refusedOn({ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'body.input[0].type');
    refusedOn(
      { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
      'body.input[0].content[0].type',
    );
    refusedOn(
      { input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] },
      'body.input[0].content[0]',
    );
    refusedOn({ input: [{ type: 'reasoning', id: 'rs_1', summary: [] }] }, 'body.input');
    // background: false and null state fields are what SDKs send by default: accepted.
    assert.doesNotThrow(() => translate({ input: 'Hi', background: false, previous_response_id: null, store: true }));
  });
});
