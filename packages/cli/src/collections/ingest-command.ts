import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { EnsembleError } from '@ensemble/core';
import type { Command } from 'commander';
import { apiRequest, apiTarget, withApiClientOptions } from '../jobs/jobs-api-client.ts';
import { watchJob } from '../jobs/watch-job.ts';

interface IngestOptions {
  url?: string;
  apiKey?: string;
  chunkSize?: string;
  chunkOverlap?: string;
  namespace?: string;
}

const typesByExtension: Record<string, string> = {
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.pdf': 'application/pdf',
};

/** The document type of a file from its extension; others are refused before anything is sent. */
export function documentTypeOf(path: string): string {
  const type = typesByExtension[extname(path).toLowerCase()];
  if (type === undefined) {
    throw new EnsembleError(
      'validation_failed',
      `${path}: unsupported file type; ingest reads ${Object.keys(typesByExtension).join(' ')}`,
    );
  }
  return type;
}

/** A progress bar line: `[#####-----] 3/10 files, 42 chunks  name.md`. */
export function ingestProgressLine(done: number, total: number, chunks: number, current: string, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} files, ${chunks} chunks  ${current}`;
}

/**
 * `ensemble ingest <collection> <files…>`: each file becomes a document of the collection (its id is
 * the file name, so ingesting it again replaces it), with a progress bar on stderr: files done, and for
 * a file ingested as a job (anything but a small text) the job's chunk progress from its events.
 */
export function addIngestCommand(program: Command): void {
  withApiClientOptions(
    program
      .command('ingest <collection> <files...>')
      .description('Ingest text, Markdown, HTML and PDF files into a collection (re-ingesting a file replaces it)'),
  )
    .option('--chunk-size <chars>', 'characters per chunk', '1000')
    .option('--chunk-overlap <chars>', 'characters shared by neighbouring chunks', '200')
    .option('--namespace <name>', 'the namespace to write to')
    .action(async (collection: string, files: string[], options: IngestOptions) => {
      const types = files.map(documentTypeOf);
      const target = await apiTarget(options);
      const tty = process.stderr.isTTY === true;
      let chunks = 0;
      for (const [i, file] of files.entries()) {
        const line = ingestProgressLine(i, files.length, chunks, basename(file));
        process.stderr.write(tty ? `\r${line}` : `${line}\n`);
        const bytes = await readFile(file);
        const type = types[i] as string;
        const response = await apiRequest(
          target,
          'POST',
          `/api/collections/${encodeURIComponent(collection)}/documents`,
          {
            id: basename(file),
            source: file,
            type,
            ...(type === 'application/pdf' ? { base64: bytes.toString('base64') } : { text: bytes.toString('utf8') }),
            chunkSize: Number(options.chunkSize),
            chunkOverlap: Number(options.chunkOverlap),
            ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
          },
        );
        let result: { chunks?: number; error?: { code: string; message: string } };
        if (response.status === 202) {
          // A job: follow its chunk progress, then read the document's result.
          const { jobId } = (await response.json()) as { jobId: string };
          if (tty) process.stderr.write('\n');
          const final = await watchJob(target, jobId, process.stderr);
          const lines = await (await apiRequest(target, 'GET', `/api/jobs/${jobId}/results`)).text();
          const [first] = lines.split('\n').filter((line) => line !== '');
          const item =
            first === undefined
              ? undefined
              : (JSON.parse(first) as { output?: { chunks: number }; error?: { code: string; message: string } });
          result =
            final.status === 'completed' && item?.output !== undefined
              ? { chunks: item.output.chunks }
              : { error: item?.error ?? { code: final.status, message: `the ingestion job ended ${final.status}` } };
        } else {
          result = (await response.json()) as { chunks: number };
        }
        if (result.error !== undefined) {
          process.exitCode = 1;
          process.stdout.write(`${JSON.stringify({ file, documentId: basename(file), error: result.error })}\n`);
          continue;
        }
        chunks += result.chunks ?? 0;
        process.stdout.write(`${JSON.stringify({ file, documentId: basename(file), chunks: result.chunks })}\n`);
      }
      const done = ingestProgressLine(files.length, files.length, chunks, 'done');
      process.stderr.write(tty ? `\r${done}\n` : `${done}\n`);
    });
}
