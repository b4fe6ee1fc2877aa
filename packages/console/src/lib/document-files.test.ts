import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { documentIdOf, documentTypeOf, ingestAnswerOf, jobEnded } from './document-files.ts';

describe('files into a collection', () => {
  it('sends documents to /documents by type, and JSON Lines as records', () => {
    assert.equal(documentTypeOf('Guide.PDF'), 'application/pdf');
    assert.equal(documentTypeOf('page.html'), 'text/html');
    assert.equal(documentTypeOf('README.md'), 'text/markdown');
    assert.equal(documentTypeOf('notes.txt'), 'text/plain');
    assert.equal(documentTypeOf('data.jsonl'), 'records');
    assert.equal(documentTypeOf('blob', 'text/html'), 'text/html');
    assert.equal(documentTypeOf('image.png', 'image/png'), undefined);
    assert.equal(documentIdOf('a#b.md'), 'a-b.md');
  });

  it('reads a synchronous answer and a job answer alike', () => {
    assert.deepEqual(ingestAnswerOf(200, { documentId: 'a', chunks: 3, removed: 0 }), { kind: 'done', chunks: 3 });
    assert.deepEqual(ingestAnswerOf(202, { job: { id: 'job_1', status: 'queued' } }), { kind: 'job', jobId: 'job_1' });
    assert.deepEqual(ingestAnswerOf(202, { job: 'job_2' }), { kind: 'job', jobId: 'job_2' });
    assert.deepEqual(ingestAnswerOf(202, { jobId: 'job_3' }), { kind: 'job', jobId: 'job_3' });
    assert.deepEqual(ingestAnswerOf(202, { id: 'job_4', status: 'queued' }), { kind: 'job', jobId: 'job_4' });
    assert.equal(jobEnded({ type: 'job.completed' }), true);
    assert.equal(jobEnded({ type: 'job.progressed', status: 'running' }), false);
    assert.equal(jobEnded({ type: 'job.progressed', status: 'failed' }), true);
  });
});
