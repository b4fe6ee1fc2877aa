import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EnsembleError } from '@ensemble/core';
import type { Command } from 'commander';
import {
  type ApiTarget,
  apiRequest,
  apiTarget,
  withApiClientOptions as client,
  collect,
  uploadFile,
} from './jobs-api-client.ts';
import { watchJob } from './watch-job.ts';

interface ClientOptions {
  url?: string;
  apiKey?: string;
}

interface SubmitOptions extends ClientOptions {
  model?: string;
  pipeline?: string;
  type?: string;
  priority?: string;
  itemTimeoutMs?: string;
  maxAttempts?: string;
  webhook?: string;
  idempotencyKey?: string;
  metadata: string[];
  watch?: boolean;
}

/**
 * `ensemble jobs submit|watch|results`: a client of a running Ensemble's jobs API. Human output goes
 * to stderr; what a script wants (the job id, the results) to stdout.
 */
export function addJobsCommands(program: Command): void {
  const jobs = program.command('jobs').description('Submit and follow async jobs on a running Ensemble');
  client(
    jobs
      .command('submit <file>')
      .description(
        'Upload a JSONL file (one request, text or pipeline input per line) and submit it as a job; prints the job id',
      )
      .option('-m, --model <name>', 'the model or route every item calls')
      .option(
        '-p, --pipeline <ref>',
        'run this pipeline (name, name@3, name:alias) per line {"input": …} (a pipeline-run job)',
      )
      .option('-t, --type <type>', 'batch-inference or embed (with --model); pipeline-run with --pipeline')
      .option('--priority <priority>', 'normal or high')
      .option('--item-timeout-ms <ms>', 'bound of one call of one item')
      .option('--max-attempts <n>', 'tries per item, the first included')
      .option('--webhook <url>', 'POST the signed summary here when the job ends')
      .option('--idempotency-key <key>', 'submitting again with this key answers the same job')
      .option('--metadata <key=value>', 'a label kept with the job (repeatable)', collect, [])
      .option('-w, --watch', 'then follow it to the end'),
  ).action(async (file: string, options: SubmitOptions) => {
    if ((options.model === undefined) === (options.pipeline === undefined)) {
      throw new EnsembleError('validation_failed', 'give either --model or --pipeline (exactly one)', {
        field: '--model',
      });
    }
    const type = options.type ?? (options.pipeline === undefined ? 'batch-inference' : 'pipeline-run');
    const target = await apiTarget(options);
    const upload = await uploadFile(target, file);
    process.stderr.write(`uploaded ${file} (${upload.sizeBytes} bytes)\n`);
    const response = await apiRequest(
      target,
      'POST',
      '/api/jobs',
      {
        type,
        ...(options.pipeline === undefined ? { model: options.model } : { pipeline: options.pipeline }),
        inputFile: upload.sha256,
        ...(options.priority === undefined ? {} : { priority: options.priority }),
        ...(options.itemTimeoutMs === undefined ? {} : { itemTimeoutMs: Number(options.itemTimeoutMs) }),
        ...(options.maxAttempts === undefined ? {} : { retry: { maxAttempts: Number(options.maxAttempts) } }),
        ...(options.webhook === undefined ? {} : { webhook: { url: options.webhook } }),
        ...(options.metadata.length === 0 ? {} : { metadata: metadataOf(options.metadata) }),
      },
      options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey },
    );
    const job = (await response.json()) as { id: string; counts: { total: number } };
    const replayed = response.headers.get('idempotent-replayed') === 'true';
    process.stderr.write(`${replayed ? 'already submitted' : 'submitted'} ${job.id}: ${job.counts.total} items\n`);
    process.stdout.write(`${job.id}\n`);
    if (options.watch) await watch(target, job.id);
  });

  client(
    jobs
      .command('watch <id>')
      .description('Follow a job to its end with a progress bar, rate and ETA (exit 0 if it completed, 1 otherwise)'),
  ).action(async (id: string, options: ClientOptions) => {
    await watch(await apiTarget(options), id);
  });

  client(
    jobs
      .command('results <id>')
      .description('Download the results so far as JSON Lines (stdout, or --output)')
      .option('-o, --output <file>', 'write them to this file')
      .option('--failed', 'only the failed items'),
  ).action(async (id: string, options: ClientOptions & { output?: string; failed?: boolean }) => {
    const target = await apiTarget(options);
    const response = await apiRequest(
      target,
      'GET',
      `/api/jobs/${id}/results${options.failed ? '?status=failed' : ''}`,
    );
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    if (options.output === undefined) await pipeline(body, process.stdout, { end: false });
    else {
      await pipeline(body, createWriteStream(options.output));
      process.stderr.write(`results of ${id} written to ${options.output}\n`);
    }
  });
}

async function watch(target: ApiTarget, id: string): Promise<void> {
  const last = await watchJob(target, id, process.stderr);
  const { succeeded, failed, total } = last.counts;
  process.stderr.write(
    `${id} ${last.status}: ${succeeded} succeeded, ${failed} failed, ${total - succeeded - failed} not run\n`,
  );
  if (last.status !== 'completed') process.exitCode = 1;
}

function metadataOf(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      return at < 1 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}
