import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { costOf, curlSnippet, openAiJsSnippet, requestBody } from './code-snippets.ts';

const request = {
  model: 'local/smollm2-135m-instruct',
  system: '',
  message: "It's fine",
  temperature: 0.2,
  maxTokens: 32,
};

describe('view as code', () => {
  it('builds the OpenAI request the playground sends (no empty system message)', () => {
    assert.deepEqual(requestBody(request), {
      model: 'local/smollm2-135m-instruct',
      messages: [{ role: 'user', content: "It's fine" }],
      temperature: 0.2,
      max_tokens: 32,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('quotes the body for a shell and names the parameters in the SDK call', () => {
    const curl = curlSnippet(request, 'http://127.0.0.1:8080');
    assert.match(curl, /It'\\''s fine/);
    assert.match(curl, /^curl -sN http:\/\/127\.0\.0\.1:8080\/v1\/chat\/completions/);
    const js = openAiJsSnippet(request, 'http://127.0.0.1:8080');
    assert.match(js, /max_tokens: 32,/);
    assert.match(js, /baseURL: 'http:\/\/127\.0\.0\.1:8080\/v1'/);
  });

  it('prices tokens per million', () => {
    assert.equal(
      costOf({ inputTokens: 1000, outputTokens: 500 }, { inputPerMillionTokens: 3, outputPerMillionTokens: 15 }),
      0.0105,
    );
    assert.equal(costOf({ inputTokens: 1, outputTokens: 1 }, undefined), null);
  });
});
