import { type DueWebhook, type JobWebhookStore, jobWebhookBody, type Logger, type WebhookSigner } from '@ensemble/core';
import type { BackgroundService } from '../worker.ts';

export interface WebhookSenderOptions {
  store: JobWebhookStore;
  signer: WebhookSigner;
  logger: Logger;
  /** Bounds one delivery (connect to last byte). */
  timeoutMs: number;
  /** Tries in all before the webhook is `failed`. */
  maxAttempts: number;
  /** The HTTP deliveries go through: the outbound guard's (SSRF), else global fetch. */
  fetch?: typeof globalThis.fetch;
  /** How often due webhooks are looked for. Default 1 s. */
  pollIntervalMs?: number;
  /** The wait after the first failed try; doubled per try up to `maxDelayMs`. Defaults 1 s and 10 min. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

/**
 * Delivers completion webhooks: every worker polls for due ones (claims are exclusive and leased),
 * POSTs the job's summary signed with its project's secret, and on a failure — a non-2xx status,
 * a timeout, a refused connection — tries again with exponential backoff, up to `maxAttempts`.
 * Redirects are not followed (the signed URL is the one the job named).
 */
export class WebhookSender implements BackgroundService {
  readonly name = 'jobs-webhooks';
  readonly #options: WebhookSenderOptions;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: WebhookSenderOptions) {
    this.#options = options;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  /** One round: claims what is due and delivers it; returns how many were tried. */
  async deliverDue(): Promise<number> {
    const { store, timeoutMs } = this.#options;
    // The lease outlasts a delivery, so no other worker takes it meanwhile.
    const due = await store.claimDue(16, timeoutMs + 30_000);
    await Promise.all(due.map((webhook) => this.#deliver(webhook)));
    return due.length;
  }

  async #run(): Promise<void> {
    const { logger, pollIntervalMs = 1_000 } = this.#options;
    while (!this.#stop.signal.aborted) {
      let tried = 0;
      try {
        tried = await this.deliverDue();
      } catch (error) {
        logger.warn({ err: String(error) }, 'could not look for due webhooks; trying again');
      }
      if (tried === 0) await sleep(pollIntervalMs, this.#stop.signal);
    }
  }

  async #deliver({ job, url, attempt }: DueWebhook): Promise<void> {
    const { store, signer, logger, timeoutMs, maxAttempts, now = Date.now } = this.#options;
    const sentAt = now();
    const body = JSON.stringify(jobWebhookBody(job));
    let failure: string | undefined;
    try {
      const send = this.#options.fetch ?? fetch;
      const response = await send(url, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Ensemble-Webhooks/1',
          'ensemble-webhook-id': `${job.id}.${job.round}`,
          'ensemble-signature': signer.sign(job.projectId, Math.floor(sentAt / 1000), body),
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#stop.signal]),
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status < 200 || response.status >= 300) failure = `answered ${response.status}`;
    } catch (error) {
      failure =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
          ? `no answer within ${timeoutMs} ms`
          : `could not be reached: ${describe(error)}`;
    }
    try {
      if (failure === undefined) {
        await store.delivered(job.id, attempt);
        logger.info({ jobId: job.id, attempt }, 'job webhook delivered');
        return;
      }
      const retryAt = attempt >= maxAttempts ? null : new Date(now() + this.#backoff(attempt));
      await store.attemptFailed(job.id, attempt, failure, retryAt);
      logger.warn(
        { jobId: job.id, attempt, error: failure, retryAt },
        retryAt ? 'job webhook failed; will retry' : 'job webhook failed; giving up',
      );
    } catch (error) {
      // The claim's lease runs out and the webhook is tried again.
      logger.warn({ err: String(error), jobId: job.id }, 'could not record a webhook outcome');
    }
  }

  #backoff(attempt: number): number {
    const { initialDelayMs = 1_000, maxDelayMs = 600_000 } = this.#options;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string; details?: { reason?: string } } }).cause;
  // The outbound guard's refusal says which internal address the URL now resolves to.
  if (cause?.details?.reason === 'internal_address' && cause.message !== undefined) return cause.message;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
