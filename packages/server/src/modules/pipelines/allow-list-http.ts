import { EnsembleError, type PipelineHttp } from '@ensemble/core';
import { type Dispatcher, request } from 'undici';

/** The most bytes an `http` step reads from an answer. */
const maxAnswerBytes = 1024 * 1024;

/**
 * `http` steps: only URLs under a configured prefix are called (no redirects followed, so an
 * allowed host cannot send the call elsewhere), JSON or text answers up to 1 MiB.
 */
export class AllowListPipelineHttp implements PipelineHttp {
  readonly #prefixes: readonly string[];
  readonly #dispatcher: Dispatcher | undefined;

  /** `dispatcher`: the outbound guard's, so a prefix whose name now resolves inside is refused (SSRF). */
  constructor(prefixes: readonly string[], dispatcher?: Dispatcher) {
    this.#prefixes = prefixes;
    this.#dispatcher = dispatcher;
  }

  refusal(url: string): string | undefined {
    if (this.#prefixes.length === 0)
      return 'http steps are off (set PIPELINE_HTTP_ALLOW to the URL prefixes they may call)';
    return this.#prefixes.some((prefix) => url.startsWith(prefix))
      ? undefined
      : `'${url}' is not under an allowed URL prefix (PIPELINE_HTTP_ALLOW)`;
  }

  async request(call: { url: string; method: 'GET' | 'POST'; body: unknown; signal: AbortSignal }): Promise<unknown> {
    const refusal = this.refusal(call.url);
    if (refusal !== undefined) throw new EnsembleError('forbidden', refusal, { retryable: false });
    const answer = await request(call.url, {
      method: call.method,
      signal: call.signal,
      ...(this.#dispatcher === undefined ? {} : { dispatcher: this.#dispatcher }),
      ...(call.method === 'POST'
        ? { body: JSON.stringify(call.body ?? null), headers: { 'content-type': 'application/json' } }
        : {}),
    }).catch((error: unknown) => {
      // The guard's refusal (an internal address when connecting) will not change on a retry.
      const refused = EnsembleError.isInstance(error) && error.details?.reason === 'internal_address';
      throw new EnsembleError('upstream_error', `${call.url} could not be reached: ${(error as Error).message}`, {
        cause: error,
        ...(refused ? { retryable: false, details: { reason: 'internal_address' } } : {}),
      });
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer.body) {
      size += (chunk as Buffer).length;
      if (size > maxAnswerBytes) {
        answer.body.destroy();
        throw new EnsembleError('upstream_error', `${call.url} answered more than ${maxAnswerBytes} bytes`, {
          retryable: false,
        });
      }
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    // Redirects are answers too: following one could leave the allowed prefixes.
    if (answer.statusCode >= 300) {
      throw new EnsembleError('upstream_error', `${call.url} answered ${answer.statusCode}`, {
        retryable: answer.statusCode >= 500 || answer.statusCode === 429,
      });
    }
    const type = String(answer.headers['content-type'] ?? '');
    if (type.includes('json')) {
      try {
        return JSON.parse(text);
      } catch {
        throw new EnsembleError('upstream_error', `${call.url} answered invalid JSON`, { retryable: false });
      }
    }
    return text;
  }
}
