import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenAiStreamScanner } from './openai-stream-scanner.ts';
import { streamEvents } from './testing/fake-openai-server.ts';

const stream = `${streamEvents(['Hello', ' there'], true).join('')}data: [DONE]\n\n`;

/** Feeds `text` in pieces of `size` bytes; returns what the scanner let through. */
function feed(scanner: OpenAiStreamScanner, text: string, size: number): string {
  const bytes = Buffer.from(text);
  let out = '';
  for (let at = 0; at < bytes.length; at += size) out += scanner.push(bytes.subarray(at, at + size)).toString();
  return out + scanner.end();
}

describe('OpenAiStreamScanner', () => {
  it('passes the bytes unchanged and finds usage and [DONE] even when split across chunks', () => {
    for (const size of [1, 7, 64, 100_000]) {
      const scanner = new OpenAiStreamScanner({ stripUsage: false });
      assert.equal(feed(scanner, stream, size), stream);
      assert.deepEqual(scanner.usage, { inputTokens: 12, outputTokens: 5 });
      assert.equal(scanner.done, true);
      assert.equal(scanner.upstreamError, false);
    }
  });

  it('stripping: no usage chunk and no usage fields, still counted', () => {
    for (const size of [1, 13, 100_000]) {
      const scanner = new OpenAiStreamScanner({ stripUsage: true });
      const out = feed(scanner, stream, size);
      assert.ok(!out.includes('usage'), out);
      assert.equal(out, `${streamEvents(['Hello', ' there'], false).join('')}data: [DONE]\n\n`);
      assert.deepEqual(scanner.usage, { inputTokens: 12, outputTokens: 5 });
      assert.equal(scanner.done, true);
    }
  });

  it('notices an upstream error event and a stream without [DONE]', () => {
    const broken = `${streamEvents(['Hello'], false).slice(0, 2).join('')}data: {"error":{"message":"boom"}}\n\n`;
    const scanner = new OpenAiStreamScanner({ stripUsage: false });
    feed(scanner, broken, 5);
    assert.equal(scanner.upstreamError, true);
    assert.equal(scanner.done, false);
  });
});
