import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { EnsembleError } from '@ensemble/core';
import type { Command } from 'commander';

export interface ApiTarget {
  /** `http://127.0.0.1:8080` */
  url: string;
  apiKey: string;
}

/** `--url` and `--api-key` on a client command: what `apiTarget` reads, documented once. */
export function withApiClientOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the Ensemble API (env ENSEMBLE_URL, default http://127.0.0.1:8080)')
    .option('--api-key <key>', 'an API key (env ENSEMBLE_API_KEY, else <ENSEMBLE_HOME>/admin.key)');
}

/** A repeatable option's parser (`--tag a --tag b` → `['a', 'b']`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Where the CLI's client commands send requests, and with which key: `--url` / `ENSEMBLE_URL`
 * (default the local server), `--api-key` / `ENSEMBLE_API_KEY`, else the admin key a local
 * `ensemble start` keeps in `<ENSEMBLE_HOME>/admin.key`.
 */
export async function apiTarget(options: { url?: string; apiKey?: string }, env = process.env): Promise<ApiTarget> {
  const url = (options.url ?? env.ENSEMBLE_URL ?? `http://127.0.0.1:${env.PORT ?? 8080}`).replace(/\/+$/, '');
  let apiKey = options.apiKey ?? env.ENSEMBLE_API_KEY;
  if (apiKey === undefined) {
    const file = join(resolve(env.ENSEMBLE_HOME ?? './.ensemble'), 'admin.key');
    apiKey = await readFile(file, 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    );
  }
  if (apiKey === undefined || apiKey === '') {
    throw new EnsembleError('unauthorized', 'no API key: pass --api-key or set ENSEMBLE_API_KEY');
  }
  return { url, apiKey };
}

/** A request to the API; a non-2xx answer becomes an error with the server's message. */
export async function apiRequest(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${target.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).catch((error: unknown) => {
    throw new EnsembleError('upstream_error', `cannot reach Ensemble at ${target.url}: ${describe(error)}`);
  });
  if (!response.ok) throw await apiError(response);
  return response;
}

/** Streams a file to `POST /api/artifacts`; resolves with its sha256. */
export async function uploadFile(target: ApiTarget, path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const size = (await stat(path)).size;
  const response = await fetch(`${target.url}/api/artifacts`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${target.apiKey}`,
      'content-type': 'application/octet-stream',
      'content-length': String(size),
    },
    body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
    duplex: 'half',
  } as RequestInit).catch((error: unknown) => {
    throw new EnsembleError('upstream_error', `cannot reach Ensemble at ${target.url}: ${describe(error)}`);
  });
  if (!response.ok) throw await apiError(response);
  return (await response.json()) as { sha256: string; sizeBytes: number };
}

async function apiError(response: Response): Promise<EnsembleError> {
  const text = await response.text().catch(() => '');
  let message = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } };
    message = parsed.error?.message ?? message;
  } catch {
    // not JSON: the text itself
  }
  const code = response.status === 401 ? 'unauthorized' : response.status === 404 ? 'not_found' : 'validation_failed';
  return new EnsembleError(response.status >= 500 ? 'upstream_error' : code, `${response.status}: ${message}`);
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
