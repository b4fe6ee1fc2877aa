import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promptText, requestShape } from './semantic-answers.ts';

describe('what the semantic cache compares', () => {
  it('takes the text of every message with its role, multi-part text joined', () => {
    assert.equal(
      promptText([
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Capital' },
            { type: 'text', text: 'of France?' },
          ],
        },
      ]),
      'system: Be brief.\nuser: Capital of France?',
    );
    assert.equal(promptText([]), undefined);
    assert.equal(promptText([{ role: 'user', content: '  ' }]), undefined);
  });

  it('is not in play when meaning lies outside the text: images, audio, files, tool calls', () => {
    const question = { type: 'text', text: 'What is in this picture?' };
    for (const part of [
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
      { type: 'file', file: { file_id: 'file-1' } },
    ]) {
      assert.equal(promptText([{ role: 'user', content: [question, part] }]), undefined, part.type);
    }
    const toolCall = { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } };
    assert.equal(
      promptText([
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [toolCall] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ]),
      undefined,
    );
  });

  it('gives one shape per tools, format and sampling, whatever the prompt, framing or key order', () => {
    const base = { model: 'faq', messages: [{ role: 'user', content: 'a' }], temperature: 0.2 };
    const shape = requestShape(base);
    assert.equal(requestShape({ ...base, messages: [{ role: 'user', content: 'b' }] }), shape);
    assert.equal(requestShape({ ...base, stream: true, stream_options: { include_usage: true }, user: 'u' }), shape);
    assert.equal(requestShape({ temperature: 0.2, messages: [], model: 'faq' }), shape);
    const others = [
      { ...base, temperature: 0.9 },
      { ...base, max_tokens: 5 },
      { ...base, tools: [{ type: 'function', function: { name: 'f' } }] },
      { ...base, response_format: { type: 'json_object' } },
      { ...base, seed: 7 },
    ].map(requestShape);
    assert.equal(new Set([shape, ...others]).size, 6, 'each differs from the base and from each other');
  });
});
