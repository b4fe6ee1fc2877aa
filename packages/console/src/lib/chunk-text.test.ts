import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkText, recordsFromFile } from './chunk-text.ts';

describe('chunking documents for a collection', () => {
  it('packs short paragraphs together up to the limit, in order', () => {
    assert.deepEqual(chunkText('One.\n\nTwo.\n\nThree is longer.', 12), ['One. Two.', 'Three is lon', 'ger.']);
    assert.deepEqual(chunkText('Alpha beta.\n\n\n  Gamma   delta.', 100), ['Alpha beta. Gamma delta.']);
  });

  it('splits a long paragraph at sentence ends before cutting', () => {
    const chunks = chunkText('First sentence here. Second sentence here. Third one.', 25);
    assert.deepEqual(chunks, ['First sentence here.', 'Second sentence here.', 'Third one.']);
    assert.ok(chunks.every((chunk) => chunk.length <= 25));
  });

  it('reads JSONL records with ids and metadata, and names a line without text', () => {
    const records = recordsFromFile(
      'faq.jsonl',
      '{"id":"q1","text":"Reset a password?","metadata":{"topic":"account"}}\n{"text":"Refunds"}\n',
    );
    assert.deepEqual(records, [
      { id: 'q1', text: 'Reset a password?', metadata: { source: 'faq.jsonl', topic: 'account' } },
      { id: 'faq.jsonl#1', text: 'Refunds', metadata: { source: 'faq.jsonl' } },
    ]);
    assert.throws(() => recordsFromFile('bad.jsonl', '{"id":"x"}'), /bad\.jsonl line 1: needs a "text"/);
  });

  it('chunks a text file with its name and chunk number as metadata', () => {
    assert.deepEqual(recordsFromFile('notes.md', 'Hello.'), [
      { id: 'notes.md#0', text: 'Hello.', metadata: { source: 'notes.md', chunk: 0 } },
    ]);
  });
});
