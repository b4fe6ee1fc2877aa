import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '@ensemble/core';
import { LangChainDocumentChunker } from './langchain-document-chunker.ts';
import { makePdf } from './testing/make-pdf.ts';

const chunker = new LangChainDocumentChunker();
const small = { chunkSize: 120, chunkOverlap: 20 };
const utf8 = (text: string) => new TextEncoder().encode(text);

describe('LangChainDocumentChunker', () => {
  it('splits Markdown along its headings', async () => {
    const markdown = `# Setup\n\nInstall the package with npm and set the key.\n\n## Running\n\nStart the server with npm start; it listens on port 8080.\n\n## Stopping\n\nPress control-C to stop it gracefully.`;
    const chunks = await chunker.chunk({ type: 'text/markdown', bytes: utf8(markdown) }, small, 'content');
    assert.ok(chunks.length >= 2);
    assert.ok(chunks.some((c) => c.startsWith('## Running')));
    assert.ok(chunks.every((c) => c.length <= 120));
  });

  it('reads HTML as text without tags', async () => {
    const chunks = await chunker.chunk(
      {
        type: 'text/html',
        bytes: utf8(
          '<html><body><h1>Title</h1><p>Paragraph with <b>bold</b> text.</p><script>x</script></body></html>',
        ),
      },
      small,
      'content',
    );
    assert.equal(chunks.join(' ').includes('<'), false);
    assert.match(chunks.join(' '), /Paragraph with bold text/);
  });

  it('reads a PDF page by page, and refuses one that does not parse', async () => {
    const pdf = await makePdf([['The first page talks about volcanoes.'], ['The second page talks about bread.']]);
    const chunks = await chunker.chunk({ type: 'application/pdf', bytes: pdf }, small, 'content');
    assert.deepEqual(chunks, ['The first page talks about volcanoes.', 'The second page talks about bread.']);
    await assert.rejects(
      chunker.chunk({ type: 'application/pdf', bytes: utf8('%PDF-1.7 not really') }, small, 'body.base64'),
      (error: unknown) =>
        EnsembleError.isInstance(error) && error.field === 'body.base64' && /not a PDF/.test(error.message),
    );
    await assert.rejects(
      chunker.chunk({ type: 'text/plain', bytes: utf8('   ') }, small, 'body.text'),
      (error: unknown) => EnsembleError.isInstance(error) && /no text/.test(error.message),
    );
  });
});
