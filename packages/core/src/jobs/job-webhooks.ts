import type { Job } from './job.ts';

/** A webhook due now, claimed by one worker for `leaseMs` (others skip it meanwhile). */
export interface DueWebhook {
  job: Job;
  url: string;
  /** 1 for the first try. */
  attempt: number;
}

/**
 * The completion webhooks waiting to be delivered (PostgreSQL). A claim pushes the next try past
 * the lease, so a worker that dies mid-delivery only delays it; outcomes are written for the attempt
 * that was claimed, so a late outcome never overwrites a newer round's.
 */
export interface JobWebhookStore {
  claimDue(limit: number, leaseMs: number): Promise<DueWebhook[]>;
  delivered(jobId: string, attempt: number): Promise<void>;
  /** `retryAt` null: given up (`failed`). */
  attemptFailed(jobId: string, attempt: number, error: string, retryAt: Date | null): Promise<void>;
}

/**
 * Signs webhook bodies with a secret per project (HMAC-SHA256, Stripe's scheme): the receiver checks
 * `Ensemble-Signature: t=<unix seconds>,v1=<hex>` over `<t>.<body>` with the secret
 * `GET /api/jobs/webhook-secret` shows.
 */
export interface WebhookSigner {
  secretFor(projectId: string): string;
  /** The `Ensemble-Signature` header value for `body` sent at `timestampSeconds`. */
  sign(projectId: string, timestampSeconds: number, body: string): string;
}

/** Wakes the watchers of a job's events (SSE streams) when new ones are stored; they then read them. */
export interface JobEventNotifier {
  /** Calls `wake` whenever events of `jobId` may have been added; returns the unsubscribe. */
  subscribe(jobId: string, wake: () => void): () => void;
  /** Stops listening (the app closing). */
  close?(): Promise<void>;
}
