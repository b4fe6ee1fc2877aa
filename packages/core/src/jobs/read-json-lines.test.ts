import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '../errors/ensemble-error.ts';
import { readJsonLines } from './read-json-lines.ts';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function read(source: AsyncIterable<Uint8Array>, maxLineBytes = 1_000) {
  const out = [];
  for await (const line of readJsonLines(source, { field: 'body.inputFile', maxLineBytes })) out.push(line);
  return out;
}

describe('readJsonLines', () => {
  it('reads values across chunk boundaries, skipping blank lines and CRLF, numbering lines as an editor does', async () => {
    const lines = await read(chunks('{"a":', '1}\r\n\n  \n[2,', '3]\n"é', 'x"'));
    assert.deepEqual(lines, [
      { line: 1, value: { a: 1 } },
      { line: 4, value: [2, 3] },
      { line: 5, value: 'éx' },
    ]);
  });

  it('names the line that is not JSON, too long, or not UTF-8', async () => {
    const failure = async (source: AsyncIterable<Uint8Array>, pattern: RegExp, maxLineBytes?: number) => {
      await assert.rejects(read(source, maxLineBytes), (error: unknown) => {
        assert.ok(error instanceof EnsembleError);
        assert.equal(error.code, 'validation_failed');
        assert.equal(error.field, 'body.inputFile');
        assert.match(error.message, pattern);
        return true;
      });
    };
    await failure(chunks('1\n2\n{oops\n'), /line 3: is not valid JSON/);
    await failure(chunks('1\n', '"', 'x'.repeat(20), '"\n'), /line 2: is longer than 10 bytes/, 10);
    await failure(chunks('1\n"abc"'), /line 2: is longer than 4 bytes/, 4);
    async function* invalid(): AsyncGenerator<Uint8Array> {
      yield Uint8Array.of(0x22, 0xff, 0x22, 0x0a);
    }
    await failure(invalid(), /line 1: is not valid UTF-8/);
  });

  it('reads nothing from an empty file', async () => {
    assert.deepEqual(await read(chunks('', '\n\n')), []);
  });
});
