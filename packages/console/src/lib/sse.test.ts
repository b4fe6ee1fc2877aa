import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { takeSseEvents } from './sse.ts';

describe('server-sent events', () => {
  it('takes complete events and keeps a partial one for the next chunk', () => {
    const { events, rest } = takeSseEvents('id: 3\nevent: progress\ndata: {"a":1}\n\ndata: [DONE]\n\ndata: {"par');
    assert.deepEqual(events, [
      { id: '3', event: 'progress', data: '{"a":1}' },
      { event: 'message', data: '[DONE]' },
    ]);
    assert.equal(rest, 'data: {"par');
  });

  it('joins multi-line data, skips comments, accepts CRLF', () => {
    const { events } = takeSseEvents(': keep-alive\r\n\r\ndata: one\r\ndata: two\r\n\r\n');
    assert.deepEqual(events, [{ event: 'message', data: 'one\ntwo' }]);
  });
});
