import { type ChunkOptions, type DocumentChunker, type DocumentType, validationError } from '@ensemble/core';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { convert } from 'html-to-text';
import { extractText, getDocumentProxy } from 'unpdf';

/**
 * Text out of documents and LangChain's splitters over it: plain text and HTML (as text, headings and
 * lists kept as lines) by paragraphs then sentences, Markdown by its structure (headings, code
 * blocks), PDF page by page (unpdf, PDF.js without a canvas) so no chunk spans two pages.
 */
export class LangChainDocumentChunker implements DocumentChunker {
  async chunk(
    document: { type: DocumentType; bytes: Uint8Array },
    options: ChunkOptions,
    field: string,
  ): Promise<string[]> {
    if (options.chunkOverlap >= options.chunkSize) {
      throw validationError('body.chunkOverlap', 'must be smaller than chunkSize');
    }
    const splitter =
      document.type === 'text/markdown'
        ? RecursiveCharacterTextSplitter.fromLanguage('markdown', options)
        : new RecursiveCharacterTextSplitter(options);
    const pages = await this.#text(document, field);
    const chunks: string[] = [];
    for (const page of pages) {
      if (page.trim() === '') continue;
      chunks.push(...(await splitter.splitText(page)).filter((chunk) => chunk.trim() !== ''));
    }
    if (chunks.length === 0) throw validationError(field, 'the document has no text to index');
    return chunks;
  }

  async #text(document: { type: DocumentType; bytes: Uint8Array }, field: string): Promise<string[]> {
    switch (document.type) {
      case 'text/plain':
      case 'text/markdown':
        return [decode(document.bytes, field)];
      case 'text/html':
        return [
          convert(decode(document.bytes, field), {
            wordwrap: false,
            selectors: [{ selector: 'a', options: { ignoreHref: true } }],
          }),
        ];
      case 'application/pdf': {
        try {
          const pdf = await getDocumentProxy(new Uint8Array(document.bytes));
          const { text } = await extractText(pdf, { mergePages: false });
          return text;
        } catch (error) {
          throw validationError(field, `is not a PDF that can be read: ${(error as Error).message}`);
        }
      }
    }
  }
}

function decode(bytes: Uint8Array, field: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw validationError(field, 'is not UTF-8 text');
  }
}
