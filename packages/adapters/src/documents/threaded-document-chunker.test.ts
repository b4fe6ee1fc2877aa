import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '@ensemble/core';
import { LangChainDocumentChunker } from './langchain-document-chunker.ts';
import { makePdf } from './testing/make-pdf.ts';
import { ThreadedDocumentChunker } from './threaded-document-chunker.ts';

const options = { chunkSize: 200, chunkOverlap: 0 };

describe('ThreadedDocumentChunker', { timeout: 120_000 }, () => {
  it('splits as the LangChain chunker does, in a worker thread', async () => {
    const pdf = await makePdf([['Page one about tyres.'], ['Page two about chains.'], ['Page three about brakes.']]);
    const threaded = await new ThreadedDocumentChunker({ timeoutMs: 60_000 }).chunk(
      { type: 'application/pdf', bytes: pdf },
      options,
      'body.base64',
    );
    const inline = await new LangChainDocumentChunker().chunk({ type: 'application/pdf', bytes: pdf }, options, 'x');
    assert.deepEqual(threaded, inline);
    assert.equal(threaded.length, 3);
  });

  it("keeps the chunker's refusals: code, field and message", async () => {
    const error = await new ThreadedDocumentChunker({ timeoutMs: 60_000 })
      .chunk({ type: 'application/pdf', bytes: Buffer.from('not a pdf') }, options, 'body.base64')
      .then(
        () => assert.fail('a bad PDF was split'),
        (thrown: unknown) => thrown,
      );
    assert.ok(EnsembleError.isInstance(error));
    assert.equal(error.code, 'validation_failed');
    assert.equal(error.field, 'body.base64');
    assert.match(error.message, /^body\.base64: is not a PDF/);
  });

  it('stops the thread on timeout and on abort', async () => {
    const pages = Array.from({ length: 400 }, (_, page) => [`Page ${page} of a long document.`]);
    const pdf = await makePdf(pages);
    const started = performance.now();
    await assert.rejects(
      new ThreadedDocumentChunker({ timeoutMs: 30 }).chunk({ type: 'application/pdf', bytes: pdf }, options, 'doc'),
      (error: unknown) =>
        EnsembleError.isInstance(error) && error.code === 'timeout' && /doc: parsing/.test(error.message),
    );
    assert.ok(performance.now() - started < 5_000, 'the timeout does not wait for the parse');
    const controller = new AbortController();
    const chunking = new ThreadedDocumentChunker({ timeoutMs: 60_000 }).chunk(
      { type: 'application/pdf', bytes: pdf },
      options,
      'doc',
      controller.signal,
    );
    controller.abort(new Error('cancelled by the test'));
    await assert.rejects(chunking, /cancelled by the test/);
  });
});
