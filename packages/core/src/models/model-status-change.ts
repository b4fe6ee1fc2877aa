import type { ModelStatus } from './model-status.ts';

/** One change of a model's status, with why (a deploy, a failed health check, a recovery …). */
export interface ModelStatusChange {
  from: ModelStatus;
  to: ModelStatus;
  /** The loader's or health check's reason, when one was given. */
  reason: string | null;
  actor: string;
  at: Date;
}
