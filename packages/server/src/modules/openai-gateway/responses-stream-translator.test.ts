import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { responseFromCompletion } from './response-object.ts';
import { responsesRequestSchema } from './responses-request.ts';
import { ResponsesStreamTranslator } from './responses-stream-translator.ts';

const head = () => ({
  id: 'resp_test',
  createdAt: 1_764_000_000,
  model: 'm',
  request: responsesRequestSchema.parse({ model: 'm', input: 'hi' }),
});

const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;

/** The events in `text` (`event:` and `data:` lines), parsed. */
function events(text: string): Array<{ type: string } & Record<string, unknown>> {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      const data = JSON.parse((dataLine ?? '').slice('data: '.length)) as { type: string } & Record<string, unknown>;
      assert.equal(eventLine, `event: ${data.type}`);
      return data;
    });
}

describe('ResponsesStreamTranslator', () => {
  it('translates text split anywhere (even inside a UTF-8 character) into numbered events', () => {
    const translator = new ResponsesStreamTranslator(head());
    const upstream = Buffer.from(
      chunk({ role: 'assistant', content: '' }) +
        chunk({ content: 'Olá, ' }) +
        chunk({ content: 'mundo 🌍' }) +
        chunk({}, 'stop') +
        `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } })}\n\n` +
        'data: [DONE]\n\n',
    );
    let out = translator.start();
    // Three-byte pieces cut every event and the emoji's four bytes.
    for (let at = 0; at < upstream.length; at += 3) out += translator.push(upstream.subarray(at, at + 3));
    out += translator.end();
    assert.equal(translator.done, true);
    out += translator.finish();
    const all = events(out);
    assert.deepEqual(
      all.map((event) => event.sequence_number),
      all.map((_, index) => index),
    );
    assert.deepEqual(
      all.map((event) => event.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.equal(all[6]?.text, 'Olá, mundo 🌍');
    const response = all.at(-1)?.response as { status: string; output: unknown[]; usage: { total_tokens: number } };
    assert.equal(response.status, 'completed');
    assert.equal(response.usage.total_tokens, 7);
    assert.deepEqual(translator.tokens, { inputTokens: 3, outputTokens: 4 });
    assert.deepEqual(response.output, [
      {
        id: (all[2]?.item as { id: string } | undefined)?.id,
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Olá, mundo 🌍', annotations: [], logprobs: [] }],
      },
    ]);
  });

  it('ends a length-capped answer as response.incomplete with the reason', () => {
    const translator = new ResponsesStreamTranslator(head());
    translator.push(`${chunk({ content: 'Once upon' })}${chunk({}, 'length')}data: [DONE]\n\n`);
    const last = events(translator.finish()).at(-1) as { type: string; response: Record<string, unknown> };
    assert.equal(last.type, 'response.incomplete');
    assert.equal(last.response.status, 'incomplete');
    assert.deepEqual(last.response.incomplete_details, { reason: 'max_output_tokens' });
  });

  it('notes an upstream error event and fails with response.failed then error', () => {
    const translator = new ResponsesStreamTranslator(head());
    translator.push(chunk({ content: 'Half' }));
    translator.push(
      `data: ${JSON.stringify({ error: { message: 'overloaded', type: 'server_error', code: null } })}\n\n`,
    );
    assert.deepEqual(translator.upstreamError, { code: 'server_error', message: 'overloaded' });
    const [failed, error] = events(translator.fail(translator.upstreamError ?? { code: '', message: '' }));
    assert.equal(failed?.type, 'response.failed');
    const response = failed?.response as { status: string; error: unknown; output: Array<{ status: string }> };
    assert.equal(response.status, 'failed');
    assert.deepEqual(response.error, { code: 'server_error', message: 'overloaded' });
    assert.equal(response.output[0]?.status, 'in_progress', 'what came so far, unfinished');
    assert.equal(error?.type, 'error');
    assert.equal(error?.message, 'overloaded');
  });

  it('keeps parallel tool calls streamed interleaved apart, each its own item', () => {
    const translator = new ResponsesStreamTranslator(head());
    const call = (index: number, fields: Record<string, unknown>) => chunk({ tool_calls: [{ index, ...fields }] });
    let out = translator.push(
      call(0, { id: 'a', type: 'function', function: { name: 'f', arguments: '' } }) +
        call(1, { id: 'b', type: 'function', function: { name: 'g', arguments: '{"x":' } }) +
        call(0, { function: { arguments: '{"y":1}' } }) +
        call(1, { function: { arguments: '2}' } }) +
        chunk({}, 'tool_calls') +
        'data: [DONE]\n\n',
    );
    out += translator.finish();
    const all = events(out);
    assert.deepEqual(
      all.map((event) => [event.type, event.output_index ?? null]),
      [
        ['response.output_item.added', 0],
        ['response.output_item.added', 1],
        ['response.function_call_arguments.delta', 1],
        ['response.function_call_arguments.delta', 0],
        ['response.function_call_arguments.delta', 1],
        ['response.function_call_arguments.done', 0],
        ['response.output_item.done', 0],
        ['response.function_call_arguments.done', 1],
        ['response.output_item.done', 1],
        ['response.completed', null],
      ],
    );
    const response = all.at(-1)?.response as { output: Array<{ call_id: string; name: string; arguments: string }> };
    assert.deepEqual(
      response.output.map((item) => [item.call_id, item.name, item.arguments]),
      [
        ['a', 'f', '{"y":1}'],
        ['b', 'g', '{"x":2}'],
      ],
    );
  });

  it('keeps a refusal a refusal part, streamed and whole', () => {
    const translator = new ResponsesStreamTranslator(head());
    let out = translator.push(
      `${chunk({ role: 'assistant', content: null, refusal: '' })}${chunk({ refusal: 'I cannot ' })}${chunk({ refusal: 'help.' })}${chunk({}, 'stop')}data: [DONE]\n\n`,
    );
    out += translator.finish();
    const all = events(out);
    assert.deepEqual(
      all.map((event) => event.type),
      [
        'response.output_item.added',
        'response.content_part.added',
        'response.refusal.delta',
        'response.refusal.delta',
        'response.refusal.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.equal(all[4]?.refusal, 'I cannot help.');
    const streamed = (all.at(-1)?.response as { output: Array<{ content: unknown[] }> } | undefined)?.output[0]
      ?.content;
    assert.deepEqual(streamed, [{ type: 'refusal', refusal: 'I cannot help.' }]);

    const whole = responseFromCompletion(
      head(),
      Buffer.from(
        JSON.stringify({
          choices: [
            { message: { role: 'assistant', content: null, refusal: 'I cannot help.' }, finish_reason: 'stop' },
          ],
        }),
      ),
    ) as { output: Array<{ content: unknown[] }>; usage: { total_tokens: number } };
    assert.deepEqual(whole.output[0]?.content, [{ type: 'refusal', refusal: 'I cannot help.' }]);
    assert.equal(whole.usage.total_tokens, 0);
  });

  it('gives an answer with neither text nor tool calls an empty message', () => {
    const translator = new ResponsesStreamTranslator(head());
    translator.push(`${chunk({ role: 'assistant', content: '' })}${chunk({}, 'stop')}data: [DONE]\n\n`);
    const all = events(translator.finish());
    const response = all.at(-1)?.response as { output: Array<{ type: string; content: Array<{ text: string }> }> };
    assert.equal(response.output.length, 1);
    assert.equal(response.output[0]?.content[0]?.text, '');
  });
});
