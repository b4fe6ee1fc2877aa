// Replays a recorded wire format: a real Bedrock event stream frame must come out byte for byte.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeEventStreamMessage } from './event-stream-encoder.ts';
import { readFixture } from './fixtures.ts';

describe('AWS event stream encoder (recorded Bedrock frame)', () => {
  it('reproduces a frame recorded from Bedrock ConverseStream, prelude and message CRCs included', () => {
    const recorded = readFixture(
      join(import.meta.dirname, '..', '__fixtures__'),
      'model-stream-error.eventstream.base64.txt',
    ).trim();
    const frame = encodeEventStreamMessage(
      {
        ':message-type': 'exception',
        ':exception-type': 'modelStreamErrorException',
        ':content-type': 'application/json',
      },
      '{"message":"Model Stream Error","originalStatusCode":500,"originalMessage":"The model stream failed."}',
    );
    assert.equal(Buffer.from(frame).toString('base64'), recorded);
  });
});
