import assert from 'node:assert/strict';
import { it } from 'node:test';
import { readUsage } from './read-usage.ts';

it('reads the counts of the last usage object, however it is spaced, and zeros without one', () => {
  const answer = JSON.stringify({
    choices: [{ message: { content: 'the word "usage" and "prompt_tokens": 999 in text' } }],
    usage: {
      prompt_tokens: 23,
      completion_tokens: 9,
      total_tokens: 32,
      completion_tokens_details: { reasoning_tokens: 4 },
    },
  });
  assert.deepEqual(readUsage(Buffer.from(answer)), { inputTokens: 23, outputTokens: 9 });
  assert.deepEqual(readUsage('{"usage" : { "prompt_tokens" :\n 7, "completion_tokens":  3 }}'), {
    inputTokens: 7,
    outputTokens: 3,
  });
  assert.deepEqual(readUsage('{"usage":{"prompt_tokens":5,"total_tokens":5}}'), { inputTokens: 5, outputTokens: 0 });
  assert.deepEqual(readUsage('{"choices":[]}'), { inputTokens: 0, outputTokens: 0 });
  assert.deepEqual(readUsage('{"usage":null}'), { inputTokens: 0, outputTokens: 0 });
});
